// os-services' set-log and get-log (3.32): reading and changing, while they run, the levels
// of the loggers of this process (cinder-api, and cinder-scheduler, which places volumes
// here) and of the storage hosts (cinder-volume, asked over the volume RPC).

import { errors } from '../errors.js';
import { logLevelsOf, settableLevel } from '../observability/log-levels.js';
import { WorkflowPart } from './core.js';
import { listServices } from './inventory.js';
import { poolHostOf } from './scheduler.js';
import type { RequestContext } from './types.js';

/** Cinder's LOG_BINARIES: whose levels an operator may ask for. */
export const LOG_BINARIES = ['cinder-scheduler', 'cinder-volume', 'cinder-backup', 'cinder-api'] as const;

export interface LogLevelRequest {
  /** One of LOG_BINARIES, or '*' or '' (or none) for all of them. */
  binary?: string | null;
  /** A host (host@backend matches too, as os-services' host filter does); none: every host. */
  server?: string | null;
  /** Loggers whose names start with it; none: every logger. */
  prefix?: string | null;
}

export interface ServiceLogLevels {
  binary: string;
  host: string;
  levels: Record<string, string>;
}

interface Targets {
  api: boolean;
  services: Array<{ binary: string; host: string }>;
}

export class LogLevelsAdmin extends WorkflowPart {
  async getLogLevels(ctx: RequestContext, req: LogLevelRequest): Promise<ServiceLogLevels[]> {
    this.authorize(ctx, 'volume_extension:services:update');
    const prefix = req.prefix ?? '';
    const targets = await this.targetsOf(req);
    const result: ServiceLogLevels[] = [];
    // Cinder lists the API only when no other server is named.
    if (targets.api && (!req.server || req.server === this.options.host)) {
      result.push({ binary: 'cinder-api', host: this.options.host, levels: this.ownLevels().get(prefix) });
    }
    for (const service of targets.services) {
      const levels = service.binary === 'cinder-volume' ? await this.rpc.getLogLevels(poolHostOf(service.host), prefix) : this.ownLevels().get(prefix);
      result.push({ ...service, levels });
    }
    return result;
  }

  /** `level` is one of Cinder's LOG_LEVELS in any case. */
  async setLogLevels(ctx: RequestContext, req: LogLevelRequest & { level?: string | null }): Promise<void> {
    this.authorize(ctx, 'volume_extension:services:update');
    const level = req.level ?? '';
    if (settableLevel(level) === null) throw errors.invalidInput(`${level} is not a valid log level.`);
    const prefix = req.prefix ?? '';
    const targets = await this.targetsOf(req);
    if (targets.api) this.ownLevels().set(prefix, level);
    for (const service of targets.services) {
      if (service.binary === 'cinder-volume') await this.rpc.setLogLevels(poolHostOf(service.host), prefix, level);
      else this.ownLevels().set(prefix, level);
    }
  }

  private ownLevels() {
    return logLevelsOf(this.logger);
  }

  /**
   * Cinder's _log_params_binaries_services: the API itself, and the services up that the
   * binary and server name. A scheduler is reachable only as this process (there is no
   * scheduler RPC here), so other hosts' schedulers are left out rather than answered for.
   */
  private async targetsOf(req: LogLevelRequest): Promise<Targets> {
    const binary = req.binary ?? '';
    if (binary === 'cinder-api') return { api: true, services: [] };
    const all = binary === '' || binary === '*';
    const filters = { ...(all ? {} : { binary }), ...(req.server ? { host: req.server } : {}) };
    const services = (await listServices(this.db, filters, this.options.serviceDownTimeMs))
      .filter((service) => service.up)
      .filter((service) => service.binary === 'cinder-volume' || (service.binary === 'cinder-scheduler' && service.host === this.options.host))
      .map(({ binary: serviceBinary, host }) => ({ binary: serviceBinary, host }));
    return { api: all, services };
  }
}
