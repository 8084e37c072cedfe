// What this service asks of Keystone: a token of its own (password authentication as its
// service user), and the validation of the tokens its callers send, as keystonemiddleware
// does it (GET /v3/auth/tokens with X-Subject-Token). Every call has a bounded wait: a
// Keystone that does not answer makes the caller's request fail, never hang.

import type { Logger } from 'pino';

export interface KeystoneSettings {
  /** The identity v3 endpoint, e.g. http://127.0.0.1:5000/v3. */
  url: string;
  user: string;
  password: string;
  project: string;
  userDomain: string;
  projectDomain: string;
  timeoutMs: number;
}

/** What a valid token says about its bearer. */
export interface TokenIdentity {
  userId: string;
  userName: string;
  userDomainId: string | null;
  /** Null for a token scoped to a domain or the system, or not scoped at all. */
  projectId: string | null;
  projectName: string | null;
  projectDomainId: string | null;
  /** Role names, implied roles included (Keystone expands them). */
  roles: string[];
  isAdminProject: boolean;
  systemScope: string | null;
  /** ms since the epoch */
  expiresAt: number;
}

/** Keystone could not give an answer: unreachable, too slow, failing, or refusing this service's own credentials. */
export class IdentityUnavailable extends Error {
  constructor(
    /** Safe to show a caller: says what went wrong, names no setting, user or secret. */
    readonly reason: string,
    /** For the operator's log. */
    readonly detail: string,
  ) {
    super(reason);
    this.name = 'IdentityUnavailable';
  }
}

/** Told of each call to Keystone, for the metrics. */
export interface KeystoneCallObserver {
  keystoneCall(call: 'validate' | 'issue', outcome: 'valid' | 'invalid' | 'issued' | 'unavailable', seconds: number): void;
}

interface ServiceToken {
  token: string;
  /** ms since the epoch: get a new one from then on. */
  renewAt: number;
}

/** At most this long before it expires is the service's own token replaced. */
const RENEW_AHEAD_MS = 60_000;

export class KeystoneClient {
  private serviceToken: ServiceToken | null = null;
  private issuing: Promise<string> | null = null;
  private readonly base: string;

  constructor(
    private readonly settings: KeystoneSettings,
    private readonly logger: Logger,
    private readonly observer: KeystoneCallObserver | null = null,
    private readonly now: () => number = Date.now,
  ) {
    this.base = settings.url.replace(/\/+$/, '');
  }

  /** The unversioned endpoint a refused caller is told to authenticate at (WWW-Authenticate). */
  get authenticateUri(): string {
    return this.base.replace(/\/v3$/, '');
  }

  /** The identity behind `token`, or null when Keystone says it is not valid (unknown, expired, revoked). */
  async validate(token: string): Promise<TokenIdentity | null> {
    const started = this.now();
    try {
      const identity = await this.validateOnce(token, true);
      this.observer?.keystoneCall('validate', identity ? 'valid' : 'invalid', (this.now() - started) / 1000);
      return identity;
    } catch (err) {
      this.observer?.keystoneCall('validate', 'unavailable', (this.now() - started) / 1000);
      throw err;
    }
  }

  private async validateOnce(token: string, mayRenew: boolean): Promise<TokenIdentity | null> {
    const own = await this.ownToken();
    const res = await this.call('GET', '/auth/tokens?nocatalog', { 'X-Auth-Token': own, 'X-Subject-Token': token });
    if (res.status === 200) return parseIdentity(await this.json(res));
    await res.body?.cancel();
    // Keystone's answer for a token it does not honour: unknown, malformed, expired or revoked.
    if (res.status === 404 || res.status === 400) return null;
    if (res.status === 401 && mayRenew) {
      // Our own token was revoked or expired early: one more try with a fresh one.
      if (this.serviceToken?.token === own) this.serviceToken = null;
      return this.validateOnce(token, false);
    }
    if (res.status === 401 || res.status === 403) {
      throw new IdentityUnavailable(
        'Keystone refused this service the validation of tokens',
        `Keystone at ${this.base} answered ${res.status} to token validation by user ${this.settings.user}: it needs the service role (or admin) in its project`,
      );
    }
    throw new IdentityUnavailable(`Keystone answered HTTP ${res.status}`, `Keystone at ${this.base} answered ${res.status} to token validation`);
  }

  /** The service's own token, got again shortly before it expires; one request for it however many callers wait. */
  async ownToken(): Promise<string> {
    const current = this.serviceToken;
    if (current && current.renewAt > this.now()) return current.token;
    this.issuing ??= this.issue().finally(() => {
      this.issuing = null;
    });
    return this.issuing;
  }

  private async issue(): Promise<string> {
    const { user, password, project, userDomain, projectDomain } = this.settings;
    const body = {
      auth: {
        identity: { methods: ['password'], password: { user: { name: user, domain: { name: userDomain }, password } } },
        scope: { project: { name: project, domain: { name: projectDomain } } },
      },
    };
    const started = this.now();
    const res = await this.call('POST', '/auth/tokens?nocatalog', { 'Content-Type': 'application/json' }, JSON.stringify(body)).catch((err: unknown) => {
      this.observer?.keystoneCall('issue', 'unavailable', (this.now() - started) / 1000);
      throw err;
    });
    const token = res.headers.get('x-subject-token');
    if (res.status !== 201 || !token) {
      await res.body?.cancel();
      this.observer?.keystoneCall('issue', 'unavailable', (this.now() - started) / 1000);
      throw new IdentityUnavailable(
        "Keystone refused this service's credentials",
        `Keystone at ${this.base} answered ${res.status} to the password authentication of user ${user} (domain ${userDomain}) in project ${project} (domain ${projectDomain}): check keystone_user, keystone_password and keystone_project`,
      );
    }
    const issuedAt = this.now();
    const expiresAt = Date.parse(String(((await this.json(res)).token as Record<string, unknown> | undefined)?.expires_at));
    const lifetime = Number.isFinite(expiresAt) ? expiresAt - issuedAt : 0;
    this.serviceToken = { token, renewAt: issuedAt + Math.max(0, lifetime - Math.min(RENEW_AHEAD_MS, lifetime / 5)) };
    this.observer?.keystoneCall('issue', 'issued', (issuedAt - started) / 1000);
    this.logger.info({ keystone: this.base, user }, 'service token issued by Keystone');
    return token;
  }

  private async call(method: string, path: string, headers: Record<string, string>, body?: string): Promise<Response> {
    const url = `${this.base}${path}`;
    try {
      return await fetch(url, {
        method,
        headers: { Accept: 'application/json', 'User-Agent': 'cinderblock', ...headers },
        body,
        signal: AbortSignal.timeout(this.settings.timeoutMs),
      });
    } catch (err) {
      const timedOut = (err as Error).name === 'TimeoutError';
      const seconds = this.settings.timeoutMs / 1000;
      const cause = ((err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message) || 'no answer';
      throw new IdentityUnavailable(
        timedOut ? `Keystone did not answer within ${seconds} s` : `Keystone could not be reached (${cause})`,
        timedOut ? `${method} ${this.base}${path.split('?', 1)[0]}: no answer within ${seconds} s` : `${method} ${this.base}: ${cause}`,
      );
    }
  }

  private async json(res: Response): Promise<Record<string, unknown>> {
    try {
      return (await res.json()) as Record<string, unknown>;
    } catch {
      throw new IdentityUnavailable('Keystone sent an answer that is not JSON', `Keystone at ${this.base} sent a body that is not JSON`);
    }
  }
}

type Json = Record<string, unknown> | undefined;

function parseIdentity(body: Record<string, unknown>): TokenIdentity | null {
  const token = body.token as Json;
  const user = token?.user as Json;
  const expiresAt = Date.parse(String(token?.expires_at));
  if (!token || !user || typeof user.id !== 'string' || !Number.isFinite(expiresAt)) return null;
  const project = token.project as Json;
  const roles = Array.isArray(token.roles) ? token.roles.map((r) => String((r as Json)?.name)).filter((r) => r !== 'undefined') : [];
  const system = token.system as Json;
  return {
    userId: user.id,
    userName: String(user.name ?? ''),
    userDomainId: typeof (user.domain as Json)?.id === 'string' ? String((user.domain as Json)!.id) : null,
    projectId: typeof project?.id === 'string' ? project.id : null,
    projectName: typeof project?.name === 'string' ? project.name : null,
    projectDomainId: typeof (project?.domain as Json)?.id === 'string' ? String((project!.domain as Json)!.id) : null,
    roles,
    // keystonemiddleware's default when Keystone has no admin project configured.
    isAdminProject: token.is_admin_project !== false,
    systemScope: system?.all === true ? 'all' : null,
    expiresAt,
  };
}
