// The volume state machine as data. Each event names the statuses it may start from,
// the status it leads to and the backend work it starts. The workflow turns a rule into
// one conditional UPDATE (the `from` sets become the WHERE clause), and, when that UPDATE
// matches no row, asks `transition` with the state it then reads back for the answer the
// caller gets: Cinder's message naming the actual state, or a silent no-op where Cinder
// is silent. Nothing here touches the database, so the table is tested on its own.

import { CinderError, errors } from '../errors.js';
import { VOLUME_STATUSES, type VolumeAttachStatus, type VolumeStatus } from './types.js';

export type VolumeEvent =
  | 'create_succeeded'
  | 'create_failed'
  | 'delete'
  | 'force_delete'
  | 'delete_failed'
  | 'extend'
  | 'extend_attached'
  | 'extend_succeeded'
  | 'extend_failed'
  | 'reserve'
  | 'unreserve'
  | 'attach'
  | 'begin_detaching'
  | 'roll_detaching'
  | 'attachment_reserve'
  | 'attachment_connect'
  | 'attachment_complete';

/** Backend work an accepted event starts once its new status is stored. */
export type Effect = 'create_volume' | 'delete_volume' | 'extend_volume';

export interface VolumeState {
  id: string;
  status: VolumeStatus;
  attachStatus: VolumeAttachStatus;
  multiattach: boolean;
  migrationStatus: string | null;
  previousStatus: string | null;
  /** Attachments not yet detached; only `unreserve` looks at it. */
  liveAttachments: number;
}

/**
 * Where an accepted event leads: a fixed status, the status saved before a transient one,
 * or (unreserve) `in-use` when attachments remain and `available` otherwise.
 */
export type Target =
  | { status: VolumeStatus; attachStatus?: VolumeAttachStatus }
  | { status: 'previous' }
  | { status: 'by_attachments' };

export interface Rule {
  from: readonly VolumeStatus[];
  /** Replaces `from` for multiattach volumes. */
  fromMultiattach?: readonly VolumeStatus[];
  attachStatusIn?: readonly VolumeAttachStatus[];
  attachStatusNot?: VolumeAttachStatus;
  /** The volume must not be migrating (migration_status null, deleting, error or success). */
  notMigrating?: boolean;
  to: Target;
  /** Remembers the status left, for a `previous` target later. */
  savePrevious?: boolean;
  effects: readonly Effect[];
  /** The answer when the volume is not in a `from` state; null: a silent no-op, as in Cinder. */
  reject: (state: VolumeState) => CinderError | null;
}

/** migration_status values that mean "not migrating". */
export const NOT_MIGRATING: readonly (string | null)[] = [null, 'deleting', 'error', 'success'];

const ERROR_STATUSES = VOLUME_STATUSES.filter((s) => s.includes('error'));
const WITHOUT_ERRORS = VOLUME_STATUSES.filter((s) => !s.includes('error'));
// Attachment steps Cinder performs unconditionally; a volume being deleted is the one
// further exception made here, so a late step cannot resurrect it.
const ATTACHABLE = WITHOUT_ERRORS.filter((s) => s !== 'deleting');

export const DELETABLE: readonly VolumeStatus[] = ['available', 'error', 'error_restoring', 'error_extending', 'error_managing'];

export const deleteRejected = () =>
  errors.invalidVolume(
    'Volume status must be available or error or error_restoring or error_extending or error_managing and must not be migrating, attached, belong to a group, have snapshots, awaiting a transfer, or be disassociated from snapshots after volume transfer.',
  );

const beingDeleted = (s: VolumeState) => errors.invalidVolume(`Volume ${s.id} is being deleted, its status is ${s.status}.`);

export const RULES: Record<VolumeEvent, Rule> = {
  create_succeeded: { from: ['creating'], to: { status: 'available' }, effects: [], reject: () => null },
  create_failed: { from: ['creating'], to: { status: 'error' }, effects: [], reject: () => null },
  delete: {
    from: DELETABLE,
    attachStatusNot: 'attached',
    notMigrating: true,
    to: { status: 'deleting' },
    effects: ['delete_volume'],
    reject: deleteRejected,
  },
  force_delete: {
    // Admin force: any status, but never under an attached host or a migration.
    from: VOLUME_STATUSES.filter((s) => s !== 'deleting'),
    attachStatusNot: 'attached',
    notMigrating: true,
    to: { status: 'deleting' },
    effects: ['delete_volume'],
    reject: deleteRejected,
  },
  delete_failed: { from: ['deleting'], to: { status: 'error_deleting' }, effects: [], reject: () => null },
  extend: {
    from: ['available'],
    to: { status: 'extending' },
    savePrevious: true,
    effects: ['extend_volume'],
    reject: (s) => errors.invalidVolume(`Volume ${s.id} status must be '{'status': 'available'}' to extend, currently ${s.status}.`),
  },
  extend_attached: {
    from: ['in-use'],
    to: { status: 'extending' },
    savePrevious: true,
    effects: ['extend_volume'],
    reject: (s) => errors.invalidVolume(`Volume ${s.id} status must be '{'status': 'in-use'}' to extend, currently ${s.status}.`),
  },
  extend_succeeded: { from: ['extending'], to: { status: 'previous' }, effects: [], reject: () => null },
  extend_failed: { from: ['extending'], to: { status: 'error_extending' }, effects: [], reject: () => null },
  reserve: {
    from: ['available'],
    fromMultiattach: ['available', 'in-use'],
    to: { status: 'attaching' },
    effects: [],
    reject: (s) =>
      errors.invalidVolume(
        `Volume status must be ${s.multiattach ? 'available or in-use' : 'available'} to reserve, but the status is ${s.status}.`,
      ),
  },
  unreserve: { from: ['attaching'], to: { status: 'by_attachments' }, effects: [], reject: () => null },
  attach: {
    // os-attach needs no prior reserve in Cinder; it also finishes a reservation made
    // through either door, and repeats harmlessly on an attached volume.
    from: ['available', 'attaching', 'reserved', 'in-use'],
    to: { status: 'in-use', attachStatus: 'attached' },
    effects: [],
    reject: (s) =>
      errors.invalidVolume(
        `Volume ${s.id} status must be available, attaching, reserved or in-use to attach, but the current status is ${s.status}.`,
      ),
  },
  begin_detaching: {
    from: ['in-use'],
    attachStatusIn: ['attached'],
    notMigrating: true,
    to: { status: 'detaching' },
    effects: [],
    reject: (s) =>
      NOT_MIGRATING.includes(s.migrationStatus)
        ? errors.invalidVolume(
            "Unable to detach volume. Volume status must be 'in-use' and attach_status must be 'attached' to detach.",
          )
        : null,
  },
  roll_detaching: { from: ['detaching'], to: { status: 'in-use' }, effects: [], reject: () => null },
  attachment_reserve: {
    from: ['available', 'downloading'],
    fromMultiattach: ['available', 'in-use', 'downloading'],
    to: { status: 'reserved' },
    effects: [],
    reject: (s) =>
      errors.invalidVolume(
        `Volume ${s.id} status must be ${s.multiattach ? 'available or in-use or downloading' : 'available or downloading'} to reserve, but the current status is ${s.status}.`,
      ),
  },
  attachment_connect: {
    from: ATTACHABLE,
    to: { status: 'attaching', attachStatus: 'attaching' },
    effects: [],
    reject: (s) =>
      ERROR_STATUSES.includes(s.status)
        ? errors.invalidVolume(
            `Volume attachments can not be updated if the volume is in an error state. The Volume ${s.id} currently has a status of: ${s.status} `,
          )
        : beingDeleted(s),
  },
  attachment_complete: {
    from: [...ATTACHABLE, ...ERROR_STATUSES],
    to: { status: 'in-use', attachStatus: 'attached' },
    effects: [],
    reject: beingDeleted,
  },
};

export function allowedFrom(rule: Rule, multiattach: boolean): readonly VolumeStatus[] {
  return multiattach && rule.fromMultiattach ? rule.fromMultiattach : rule.from;
}

export type Outcome =
  | { kind: 'accepted'; status: VolumeStatus; attachStatus: VolumeAttachStatus; previousStatus: string | null; effects: readonly Effect[] }
  | { kind: 'rejected'; error: CinderError }
  | { kind: 'ignored' };

/** The pure transition: what `event` does to a volume in `state`. */
export function transition(event: VolumeEvent, state: VolumeState): Outcome {
  const rule = RULES[event];
  const matches =
    allowedFrom(rule, state.multiattach).includes(state.status) &&
    (!rule.attachStatusIn || rule.attachStatusIn.includes(state.attachStatus)) &&
    (!rule.attachStatusNot || state.attachStatus !== rule.attachStatusNot) &&
    (!rule.notMigrating || NOT_MIGRATING.includes(state.migrationStatus));
  if (!matches) {
    const error = rule.reject(state);
    return error ? { kind: 'rejected', error } : { kind: 'ignored' };
  }
  let status: VolumeStatus;
  if (rule.to.status === 'previous') status = (state.previousStatus as VolumeStatus | null) ?? 'available';
  else if (rule.to.status === 'by_attachments') status = state.liveAttachments > 0 ? 'in-use' : 'available';
  else status = rule.to.status;
  const attachStatus = 'attachStatus' in rule.to && rule.to.attachStatus ? rule.to.attachStatus : state.attachStatus;
  return {
    kind: 'accepted',
    status,
    attachStatus,
    previousStatus: rule.savePrevious ? state.status : state.previousStatus,
    effects: rule.effects,
  };
}
