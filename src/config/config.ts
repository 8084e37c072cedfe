import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { hostname } from 'node:os';
import { CINDER_QUOTA_DEFAULTS, type QuotaDefaults } from '../volumes/quota-resources.js';

/** One typed configuration for every process. Precedence: flags, then CINDERBLOCK_* environment, then the config file, then defaults. */
export interface Config {
  dataDir: string;
  /** host:port of the Block Storage API. */
  apiListen: string;
  /** host:port of the iSCSI portal. */
  iscsiListen: string;
  /** Announced portals besides the listener (multipath), host:port. */
  targetPortals: string[];
  targetHelper: string;
  volumeDriver: string;
  /** The backend's name (Cinder's volume_backend_name), the middle of host@backend#pool; empty: the driver's name. */
  volumeBackendName: string;
  /** Where backups go (Cinder's backup_driver): posix, a directory. */
  backupDriver: string;
  /** The posix store's directory (Cinder's backup_posix_path); empty: `backups` under the data dir. */
  backupPosixPath: string;
  /** How many times its capacity the backend may promise to thin volumes (Cinder's max_over_subscription_ratio). */
  maxOverSubscriptionRatio: number;
  /** Percent of the backend's capacity no volume may be placed in (Cinder's reserved_percentage). */
  reservedPercentage: number;
  /** A SQLite file path, or a postgres:// URL. */
  database: string;
  targetPrefix: string;
  /** "local" (in-process) or an amqp:// URL. */
  rpc: string;
  /** Seconds an API service waits for its volume service's answer (Cinder's rpc_response_timeout). */
  rpcTimeout: number;
  /** Seconds between a storage host's heartbeats in os-services (Cinder's report_interval). */
  reportInterval: number;
  /** Seconds after its last heartbeat that a storage host counts as down (Cinder's service_down_time). */
  serviceDownTime: number;
  logLevel: string;
  /** Base URL used in links and version documents instead of the request's Host. */
  publicEndpoint: string | null;
  availabilityZone: string;
  /** The group type `GET /group_types/default` names (Cinder's default_group_type); empty: none. */
  defaultGroupType: string;
  /** Name of this storage host, shown as os-vol-host-attr:host (host@backend#pool). */
  host: string;
  /** host:port of the Prometheus metrics endpoint (GET /metrics); empty: none. */
  metricsListen: string;
  /** Treat every noauth caller as a service (Nova) caller for the attachment-deletion safety rule. */
  noauthTrustsCallers: boolean;
  /** "noauth" (every caller an administrator; loopback only) or "keystone". */
  authStrategy: string;
  /** noauth on an address other than loopback, knowingly. */
  allowInsecureNoauth: boolean;
  /** The identity v3 endpoint that validates tokens, e.g. http://127.0.0.1:5000/v3. */
  keystoneUrl: string;
  /** This service's own user in Keystone, which validates the callers' tokens. */
  keystoneUser: string;
  /** Its password: from keystone_password_file, the environment or the config file, never a flag. */
  keystonePassword: string;
  keystonePasswordFile: string;
  keystoneProject: string;
  keystoneUserDomain: string;
  keystoneProjectDomain: string;
  /** Seconds to wait for Keystone before answering 503. */
  keystoneTimeout: number;
  /** Seconds a token's validation is trusted, at most. */
  tokenCacheTime: number;
  /** A service token with one of these roles makes a request a service's (Nova's). */
  serviceTokenRoles: string[];
  /** A service token without one of those roles is refused (401) rather than ignored. */
  serviceTokenRolesRequired: boolean;
  /** A YAML or JSON file of oslo.policy rules overriding Cinder's defaults; empty: the defaults. */
  policyFile: string;
  /**
   * Each project's limits where neither it nor the default quota class (os-quota-class-sets)
   * sets one; -1 is no limit. Cinder's quota_* options and per_volume_size_limit.
   */
  quotaVolumes: number;
  quotaSnapshots: number;
  quotaGigabytes: number;
  quotaBackups: number;
  quotaBackupGigabytes: number;
  quotaGroups: number;
  perVolumeSizeLimit: number;
}

type Keys = keyof Config;

/** Numbers for which 0 is a meaning (nothing reserved) rather than a mistake. */
const ZERO_ALLOWED: ReadonlySet<Keys> = new Set(['reservedPercentage']);

/** pino's levels, most severe first; the logger's own error for another name does not say which setting was wrong. */
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Environment variable and config-file key for each setting. */
export const SETTINGS: Record<Keys, { env: string; file: string }> = {
  dataDir: { env: 'CINDERBLOCK_DATA_DIR', file: 'data_dir' },
  apiListen: { env: 'CINDERBLOCK_API_LISTEN', file: 'api_listen' },
  iscsiListen: { env: 'CINDERBLOCK_ISCSI_LISTEN', file: 'iscsi_listen' },
  targetPortals: { env: 'CINDERBLOCK_TARGET_PORTALS', file: 'target_portals' },
  targetHelper: { env: 'CINDERBLOCK_TARGET_HELPER', file: 'target_helper' },
  volumeDriver: { env: 'CINDERBLOCK_VOLUME_DRIVER', file: 'volume_driver' },
  volumeBackendName: { env: 'CINDERBLOCK_VOLUME_BACKEND_NAME', file: 'volume_backend_name' },
  backupDriver: { env: 'CINDERBLOCK_BACKUP_DRIVER', file: 'backup_driver' },
  backupPosixPath: { env: 'CINDERBLOCK_BACKUP_POSIX_PATH', file: 'backup_posix_path' },
  maxOverSubscriptionRatio: { env: 'CINDERBLOCK_MAX_OVER_SUBSCRIPTION_RATIO', file: 'max_over_subscription_ratio' },
  reservedPercentage: { env: 'CINDERBLOCK_RESERVED_PERCENTAGE', file: 'reserved_percentage' },
  database: { env: 'CINDERBLOCK_DATABASE', file: 'database' },
  targetPrefix: { env: 'CINDERBLOCK_TARGET_PREFIX', file: 'target_prefix' },
  rpc: { env: 'CINDERBLOCK_RPC', file: 'rpc' },
  rpcTimeout: { env: 'CINDERBLOCK_RPC_TIMEOUT', file: 'rpc_timeout' },
  reportInterval: { env: 'CINDERBLOCK_REPORT_INTERVAL', file: 'report_interval' },
  serviceDownTime: { env: 'CINDERBLOCK_SERVICE_DOWN_TIME', file: 'service_down_time' },
  logLevel: { env: 'CINDERBLOCK_LOG_LEVEL', file: 'log_level' },
  publicEndpoint: { env: 'CINDERBLOCK_PUBLIC_ENDPOINT', file: 'public_endpoint' },
  availabilityZone: { env: 'CINDERBLOCK_AVAILABILITY_ZONE', file: 'availability_zone' },
  defaultGroupType: { env: 'CINDERBLOCK_DEFAULT_GROUP_TYPE', file: 'default_group_type' },
  host: { env: 'CINDERBLOCK_HOST', file: 'host' },
  noauthTrustsCallers: { env: 'CINDERBLOCK_NOAUTH_TRUSTS_CALLERS', file: 'noauth_trusts_callers' },
  metricsListen: { env: 'CINDERBLOCK_METRICS_LISTEN', file: 'metrics_listen' },
  authStrategy: { env: 'CINDERBLOCK_AUTH_STRATEGY', file: 'auth_strategy' },
  allowInsecureNoauth: { env: 'CINDERBLOCK_ALLOW_INSECURE_NOAUTH', file: 'allow_insecure_noauth' },
  keystoneUrl: { env: 'CINDERBLOCK_KEYSTONE_URL', file: 'keystone_url' },
  keystoneUser: { env: 'CINDERBLOCK_KEYSTONE_USER', file: 'keystone_user' },
  keystonePassword: { env: 'CINDERBLOCK_KEYSTONE_PASSWORD', file: 'keystone_password' },
  keystonePasswordFile: { env: 'CINDERBLOCK_KEYSTONE_PASSWORD_FILE', file: 'keystone_password_file' },
  keystoneProject: { env: 'CINDERBLOCK_KEYSTONE_PROJECT', file: 'keystone_project' },
  keystoneUserDomain: { env: 'CINDERBLOCK_KEYSTONE_USER_DOMAIN', file: 'keystone_user_domain' },
  keystoneProjectDomain: { env: 'CINDERBLOCK_KEYSTONE_PROJECT_DOMAIN', file: 'keystone_project_domain' },
  keystoneTimeout: { env: 'CINDERBLOCK_KEYSTONE_TIMEOUT', file: 'keystone_timeout' },
  tokenCacheTime: { env: 'CINDERBLOCK_TOKEN_CACHE_TIME', file: 'token_cache_time' },
  serviceTokenRoles: { env: 'CINDERBLOCK_SERVICE_TOKEN_ROLES', file: 'service_token_roles' },
  serviceTokenRolesRequired: { env: 'CINDERBLOCK_SERVICE_TOKEN_ROLES_REQUIRED', file: 'service_token_roles_required' },
  policyFile: { env: 'CINDERBLOCK_POLICY_FILE', file: 'policy_file' },
  quotaVolumes: { env: 'CINDERBLOCK_QUOTA_VOLUMES', file: 'quota_volumes' },
  quotaSnapshots: { env: 'CINDERBLOCK_QUOTA_SNAPSHOTS', file: 'quota_snapshots' },
  quotaGigabytes: { env: 'CINDERBLOCK_QUOTA_GIGABYTES', file: 'quota_gigabytes' },
  quotaBackups: { env: 'CINDERBLOCK_QUOTA_BACKUPS', file: 'quota_backups' },
  quotaBackupGigabytes: { env: 'CINDERBLOCK_QUOTA_BACKUP_GIGABYTES', file: 'quota_backup_gigabytes' },
  quotaGroups: { env: 'CINDERBLOCK_QUOTA_GROUPS', file: 'quota_groups' },
  perVolumeSizeLimit: { env: 'CINDERBLOCK_PER_VOLUME_SIZE_LIMIT', file: 'per_volume_size_limit' },
};

/** Settings that are quota limits: whole numbers, with -1 for no limit. */
const QUOTA_SETTINGS: ReadonlySet<Keys> = new Set(['quotaVolumes', 'quotaSnapshots', 'quotaGigabytes', 'quotaBackups', 'quotaBackupGigabytes', 'quotaGroups', 'perVolumeSizeLimit']);
/** Cinder's largest limit (its database's int). */
const MAX_QUOTA = 2 ** 31 - 1;

export function defaultConfig(): Config {
  return {
    dataDir: resolve('cinderblock-data'),
    apiListen: '127.0.0.1:8776',
    iscsiListen: '127.0.0.1:3260',
    targetPortals: [],
    targetHelper: 'builtin',
    volumeDriver: 'file',
    volumeBackendName: '',
    backupDriver: 'posix',
    backupPosixPath: '',
    // Cinder's defaults.
    maxOverSubscriptionRatio: 20,
    reservedPercentage: 0,
    database: '',
    targetPrefix: 'iqn.2010-10.org.openstack:',
    rpc: 'local',
    rpcTimeout: 60,
    reportInterval: 10,
    serviceDownTime: 60,
    logLevel: 'info',
    publicEndpoint: null,
    availabilityZone: 'nova',
    defaultGroupType: '',
    host: hostname(),
    noauthTrustsCallers: false,
    metricsListen: '',
    authStrategy: 'noauth',
    allowInsecureNoauth: false,
    keystoneUrl: '',
    keystoneUser: 'cinder',
    keystonePassword: '',
    keystonePasswordFile: '',
    keystoneProject: 'service',
    keystoneUserDomain: 'Default',
    keystoneProjectDomain: 'Default',
    keystoneTimeout: 5,
    tokenCacheTime: 300,
    serviceTokenRoles: ['service'],
    serviceTokenRolesRequired: true,
    policyFile: '',
    quotaVolumes: CINDER_QUOTA_DEFAULTS.volumes,
    quotaSnapshots: CINDER_QUOTA_DEFAULTS.snapshots,
    quotaGigabytes: CINDER_QUOTA_DEFAULTS.gigabytes,
    quotaBackups: CINDER_QUOTA_DEFAULTS.backups,
    quotaBackupGigabytes: CINDER_QUOTA_DEFAULTS.backup_gigabytes,
    quotaGroups: CINDER_QUOTA_DEFAULTS.groups,
    perVolumeSizeLimit: CINDER_QUOTA_DEFAULTS.per_volume_gigabytes,
  };
}

/** The configured defaults, by Cinder's resource names. */
export function quotaDefaultsOf(config: Config): QuotaDefaults {
  return {
    volumes: config.quotaVolumes,
    per_volume_gigabytes: config.perVolumeSizeLimit,
    snapshots: config.quotaSnapshots,
    gigabytes: config.quotaGigabytes,
    backups: config.quotaBackups,
    backup_gigabytes: config.quotaBackupGigabytes,
    groups: config.quotaGroups,
  };
}

function coerce(key: Keys, raw: unknown): unknown {
  const current = defaultConfig()[key];
  if (Array.isArray(current)) {
    if (Array.isArray(raw)) return raw.map(String);
    return String(raw)
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  }
  if (QUOTA_SETTINGS.has(key)) {
    const number = typeof raw === 'number' ? raw : Number(String(raw).trim() || NaN);
    if (!Number.isInteger(number) || number < -1 || number > MAX_QUOTA) {
      throw new Error(`setting ${SETTINGS[key].file}: expected a whole number from -1 (no limit) to ${MAX_QUOTA}, got "${String(raw)}"`);
    }
    return number;
  }
  if (typeof current === 'number') {
    const number = typeof raw === 'number' ? raw : Number(String(raw).trim() || NaN);
    if (ZERO_ALLOWED.has(key) && number === 0) return number;
    if (!Number.isFinite(number) || number <= 0) throw new Error(`setting ${SETTINGS[key].file}: expected a positive number, got "${String(raw)}"`);
    return number;
  }
  if (typeof current === 'boolean') {
    if (typeof raw === 'boolean') return raw;
    const text = String(raw).toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(text)) return true;
    if (['0', 'false', 'no', 'off', ''].includes(text)) return false;
    throw new Error(`setting ${SETTINGS[key].file}: expected a boolean, got "${String(raw)}"`);
  }
  return raw === null ? null : String(raw);
}

/**
 * Builds the configuration. `flags` holds only the settings given on the command line.
 * The config file is JSON with the snake_case keys of SETTINGS.
 */
export function loadConfig(
  flags: Partial<Record<Keys, unknown>> = {},
  env: NodeJS.ProcessEnv = process.env,
  configFile: string | undefined = env.CINDERBLOCK_CONFIG,
): Config {
  const config = defaultConfig();
  const layers: Array<Partial<Record<Keys, unknown>>> = [];
  if (configFile) {
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, unknown>;
    } catch (err) {
      throw new Error(`cannot read config file ${configFile}: ${(err as Error).message}`);
    }
    const known = new Map(Object.entries(SETTINGS).map(([k, v]) => [v.file, k as Keys]));
    const layer: Partial<Record<Keys, unknown>> = {};
    for (const [fileKey, value] of Object.entries(parsed)) {
      const key = known.get(fileKey);
      if (!key) throw new Error(`config file ${configFile}: unknown setting "${fileKey}"`);
      layer[key] = value;
    }
    layers.push(layer);
  }
  const envLayer: Partial<Record<Keys, unknown>> = {};
  for (const [key, { env: name }] of Object.entries(SETTINGS) as Array<[Keys, { env: string }]>) {
    if (env[name] !== undefined) envLayer[key] = env[name];
  }
  layers.push(envLayer, flags);
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer) as Array<[Keys, unknown]>) {
      if (value === undefined) continue;
      (config as unknown as Record<string, unknown>)[key] = coerce(key, value);
    }
  }
  config.dataDir = resolve(config.dataDir);
  if (!config.database) config.database = join(config.dataDir, 'cinderblock.sqlite');
  if (!LOG_LEVELS.includes(config.logLevel)) {
    throw new Error(`setting log_level: expected one of ${LOG_LEVELS.join(', ')}, got "${config.logLevel}"`);
  }
  parseHostPort(config.apiListen, 'api_listen');
  parseHostPort(config.iscsiListen, 'iscsi_listen');
  if (config.metricsListen) parseHostPort(config.metricsListen, 'metrics_listen');
  for (const portal of config.targetPortals) parseHostPort(portal, 'target_portals');
  // Cinder refuses a ratio under 1 at scheduling time; here it stops the start instead.
  if (config.maxOverSubscriptionRatio < 1) {
    throw new Error(`setting max_over_subscription_ratio: expected at least 1.0, got ${config.maxOverSubscriptionRatio}`);
  }
  if (config.reservedPercentage > 100) throw new Error(`setting reserved_percentage: expected 0 to 100, got ${config.reservedPercentage}`);
  checkAuthSettings(config);
  return config;
}

const AUTH_STRATEGIES = ['noauth', 'keystone'];

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** Keystone needs somewhere to ask and a password to ask with; noauth must not face a network. */
function checkAuthSettings(config: Config): void {
  if (!AUTH_STRATEGIES.includes(config.authStrategy)) {
    throw new Error(`setting auth_strategy: expected one of ${AUTH_STRATEGIES.join(', ')}, got "${config.authStrategy}"`);
  }
  if (config.keystonePasswordFile) {
    try {
      config.keystonePassword = readFileSync(config.keystonePasswordFile, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      throw new Error(`setting keystone_password_file: cannot read ${config.keystonePasswordFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  if (config.authStrategy === 'keystone') {
    if (!/^https?:\/\/[^/]+/.test(config.keystoneUrl)) {
      throw new Error(`setting keystone_url: auth_strategy keystone needs the identity v3 endpoint (http://HOST:PORT/v3), got "${config.keystoneUrl}"`);
    }
    if (!config.keystonePassword) {
      throw new Error(
        `auth_strategy keystone needs the password of keystone_user "${config.keystoneUser}": set keystone_password_file (--keystone-password-file), CINDERBLOCK_KEYSTONE_PASSWORD or keystone_password in the config file`,
      );
    }
    if (config.serviceTokenRoles.length === 0) throw new Error('setting service_token_roles: expected at least one role name');
    return;
  }
  const { host } = parseHostPort(config.apiListen, 'api_listen');
  if (!isLoopback(host) && !config.allowInsecureNoauth) {
    throw new Error(
      `auth_strategy noauth makes every caller an administrator, so it listens on loopback only, and api_listen is ${config.apiListen}: ` +
        'use auth_strategy keystone, or set allow_insecure_noauth (--allow-insecure-noauth) to listen there anyway',
    );
  }
}

/** "127.0.0.1:8776" or "[::1]:8776" -> host and port; a clear error names the setting otherwise. */
export function parseHostPort(value: string, setting: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(value);
  const port = match ? Number(match[3]) : NaN;
  if (!match || port > 65535) throw new Error(`setting ${setting}: expected HOST:PORT, got "${value}"`);
  return { host: match[1] ?? match[2]!, port };
}

/**
 * The configuration for a command: its options (named as the settings they set, e.g.
 * dataDir for --data-dir), then the environment and the config file they name.
 */
export function loadConfigFromOptions(opts: Record<string, string | undefined>): Config {
  const flags: Partial<Record<Keys, unknown>> = {};
  for (const key of Object.keys(SETTINGS) as Keys[]) if (opts[key] !== undefined) flags[key] = opts[key];
  return loadConfig(flags, process.env, opts.config ?? process.env.CINDERBLOCK_CONFIG);
}
