// What the parts of the workflow share, made once by createWorkflow: the database, the storage
// host's RPC, the per-volume locks, the options, the state machine and the loaders. Each
// part holds the same references under the same names, so its methods read as the
// service's own and cost no more than they did in one class.

import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../db/schema.js';
import type { KeyedLocks } from '../db/keyed-lock.js';
import type { VolumeRpc } from '../rpc/rpc.js';
import type { Loader } from './loading.js';
import type { VolumeMachine } from './machine.js';
import type { VolumeScheduler } from './scheduler.js';
import { errors } from '../errors.js';
import type { EnforcedRule, Policy, PolicyTarget } from '../policy/index.js';
import type { QuotaDefaults } from './quota-resources.js';
import type { RequestContext } from './types.js';

export interface WorkflowOptions {
  availabilityZone: string;
  /** This process's host (Cinder's CONF.host), where its cinder-api and cinder-scheduler run. */
  host: string;
  /** Which storage host (os-vol-host-attr:host, host@backend#pool) a new volume goes to. */
  scheduler: VolumeScheduler;
  /** A storage host silent for longer counts as down (Cinder's service_down_time). */
  serviceDownTimeMs: number;
  /** Every noauth caller counts as a service for the attachment-deletion safety rule. */
  noauthTrustsCallers: boolean;
  /** Cinder's rules (or the operator's) deciding who may do what to which project's objects. */
  policy: Policy;
  /** Each project's limits where neither it nor the default quota class sets one. */
  quotaDefaults: QuotaDefaults;
}

/** The target of a rule: the object's project and owner, as Cinder passes target_obj. */
export function targetOf(row: { project_id: string; user_id?: string | null }): PolicyTarget {
  return { project_id: row.project_id, user_id: row.user_id ?? undefined };
}

export interface WorkflowCore {
  readonly db: Kysely<Database>;
  readonly rpc: VolumeRpc;
  /** One volume's multi-step sequences take turns under its lock, in every process sharing the database. */
  readonly locks: KeyedLocks;
  readonly options: WorkflowOptions;
  readonly logger: Logger;
  readonly machine: VolumeMachine;
  readonly load: Loader;
}

/**
 * Cinder's default rules let an administrator act on every project's objects, so with them
 * the object need not be read to decide; an operator's file may say otherwise.
 */
export function adminPassesEveryTarget(policy: Policy): boolean {
  return policy.effectiveRules().every((rule) => rule.source === 'default');
}

/** A part of the workflow: one group of BlockStorage's calls, over the shared core. */
export abstract class WorkflowPart {
  protected readonly db: Kysely<Database>;
  protected readonly rpc: VolumeRpc;
  protected readonly locks: KeyedLocks;
  protected readonly options: WorkflowOptions;
  protected readonly logger: Logger;
  protected readonly machine: VolumeMachine;
  protected readonly load: Loader;
  private readonly adminPassesEveryTarget: boolean;

  constructor(core: WorkflowCore) {
    this.db = core.db;
    this.rpc = core.rpc;
    this.locks = core.locks;
    this.options = core.options;
    this.logger = core.logger;
    this.machine = core.machine;
    this.load = core.load;
    this.adminPassesEveryTarget = adminPassesEveryTarget(core.options.policy);
  }

  /**
   * `rule` on a volume: read (a 404 if the caller may not see it) only when the decision
   * depends on it, which for an administrator under Cinder's defaults it does not.
   */
  protected async authorizeOnVolume(ctx: RequestContext, rule: EnforcedRule, id: string): Promise<void> {
    if (ctx.isAdmin && this.adminPassesEveryTarget) return this.authorize(ctx, rule);
    this.authorize(ctx, rule, targetOf(await this.load.volumeSummary(ctx, id)));
  }

  /**
   * Cinder's context.authorize: the rule must allow the caller on the target, which is the
   * caller's own project when there is no object yet (a create, a list). A refusal is a 403
   * naming the rule.
   */
  protected authorize(ctx: RequestContext, rule: EnforcedRule, target?: PolicyTarget): void {
    if (!this.allows(ctx, rule, target)) throw errors.policy(rule);
  }

  /** The same decision, for callers that answer a refusal differently (a 404, a field left out). */
  protected allows(ctx: RequestContext, rule: EnforcedRule, target?: PolicyTarget): boolean {
    return this.options.policy.allows(rule, target ?? { project_id: ctx.projectId, user_id: ctx.userId }, ctx);
  }
}

/** What Cinder takes for a UUID: any case, hyphens optional. */
export const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
