// The BlockStorage service: Cinder's volume API and its one attachment state machine.
// Both doors (the legacy actions and the attachments API) move a volume through the
// rules of states.ts, each move one conditional UPDATE, and share the same attachment
// steps (create row, connect, mark attached, finish detach).
//
// Each group of calls is done by one part over a shared core (core.ts): the state machine
// (machine.ts) and the loaders (loading.ts) among them. This file only makes the parts and
// says which part answers which call.

import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../db/schema.js';
import type { KeyedLocks } from '../db/keyed-lock.js';
import type { VolumeRpc } from '../rpc/rpc.js';
import { AttachmentSteps } from './attachment-steps.js';
import { Backups } from './backups.js';
import { AttachmentsApi } from './attachments-api.js';
import type { WorkflowCore, WorkflowOptions } from './core.js';
import { countStatuses, type StatusCounts } from './inventory.js';
import { LegacyActions } from './legacy-actions.js';
import { Loader } from './loading.js';
import { VolumeMachine } from './machine.js';
import { UserMessages } from './messages.js';
import type { BlockStorage } from './service.js';
import { ServicesAdmin } from './services-admin.js';
import { LogLevelsAdmin } from './log-levels-admin.js';
import { HostsAdmin } from './hosts-admin.js';
import { QuotaSets } from './quota-sets.js';
import { QosSpecs } from './qos-specs.js';
import { SnapshotActions } from './snapshot-actions.js';
import { SnapshotMetadata } from './snapshot-metadata.js';
import { Snapshots } from './snapshots.js';
import { VolumeRevert } from './volume-revert.js';
import { Transfers } from './transfers.js';
import { ManageExisting } from './manage.js';
import { GroupSnapshots } from './group-snapshots.js';
import { GroupTypes } from './group-types.js';
import { Groups } from './groups.js';
import { VolumeLifecycle } from './volume-lifecycle.js';
import { VolumeProperties } from './volume-properties.js';
import { VolumeTypes } from './volume-types.js';
import { DefaultTypes } from './default-types.js';
import { Retype } from './retype.js';
import { TypeAccess } from './type-access.js';
import { TypeEncryption } from './type-encryption.js';

export type { WorkflowOptions } from './core.js';

/** BlockStorage, and what the process that runs it needs besides. */
export interface Workflow extends BlockStorage {
  start(): Promise<void>;
  /** Waits for every background step started so far (volume create, delete, extend). */
  drain(): Promise<void>;
  /** Start-up: finishes or fails the steps a previous run on this storage host left half done. */
  resumeInterrupted(volumeHost: string): Promise<{ resumed: number }>;
  /** How many volumes are in each status, and live attachments in each attach_status, over all projects. */
  statusCounts(): Promise<StatusCounts>;
}

/** The named methods of a part, bound to it. */
function calls<Part extends object, Name extends keyof Part>(part: Part, ...names: Name[]): Pick<Part, Name> {
  const picked = {} as Pick<Part, Name>;
  for (const name of names) {
    const method = part[name];
    picked[name] = typeof method === 'function' ? method.bind(part) : method;
  }
  return picked;
}

export function createWorkflow(
  db: Kysely<Database>,
  rpc: VolumeRpc,
  /** One volume's multi-step sequences take turns under its lock, in every process sharing the database. */
  locks: KeyedLocks,
  options: WorkflowOptions,
  logger: Logger,
): Workflow {
  const machine = new VolumeMachine(db, rpc, logger);
  const load = new Loader(db);
  const core: WorkflowCore = { db, rpc, locks, options, logger, machine, load };
  const steps = new AttachmentSteps(core);
  const types = new VolumeTypes(core);
  const lifecycle = new VolumeLifecycle(core, types);
  const properties = new VolumeProperties(core);
  const legacy = new LegacyActions(core, steps);
  const attachments = new AttachmentsApi(core, steps);
  const snapshots = new Snapshots(core);
  const backups = new Backups(core, lifecycle);
  const snapshotActions = new SnapshotActions(core);
  const snapshotMetadata = new SnapshotMetadata(core);
  const revert = new VolumeRevert(core);
  const services = new ServicesAdmin(core);
  const logLevels = new LogLevelsAdmin(core);
  const hosts = new HostsAdmin(core);
  const quotas = new QuotaSets(core);
  const messages = new UserMessages(core);
  const groupTypes = new GroupTypes(core);
  const groups = new Groups(core, groupTypes, types, lifecycle);
  const groupSnapshots = new GroupSnapshots(core, groups, snapshots);
  const typeAccess = new TypeAccess(core, types);
  const encryption = new TypeEncryption(core, types);
  const defaultTypes = new DefaultTypes(core, types);
  const retype = new Retype(core, types, encryption);
  const qos = new QosSpecs(core);
  const transfers = new Transfers(core);
  const manage = new ManageExisting(core, types);

  return {
    start: () => load.start(),
    drain: () => machine.drain(),
    async resumeInterrupted(volumeHost) {
      let resumed = 0;
      for (const part of [machine, revert, backups]) resumed += (await part.resumeInterrupted(volumeHost)).resumed;
      return { resumed };
    },
    statusCounts: () => countStatuses(db),
    // volumes
    ...calls(lifecycle, 'createVolume', 'extendVolume', 'deleteVolume'),
    ...calls(
      properties,
      'getVolume',
      'listVolumes',
      'updateVolume',
      'setBootable',
      'updateReadonlyFlag',
      'getMetadata',
      'setMetadata',
      'deleteMetadataKey',
    ),
    // legacy actions
    ...calls(
      legacy,
      'reserve',
      'unreserve',
      'initializeConnection',
      'attach',
      'beginDetaching',
      'rollDetaching',
      'terminateConnection',
      'detach',
      'forceDetach',
      'resetStatus',
    ),
    // attachments API
    ...calls(
      attachments,
      'createAttachment',
      'updateAttachment',
      'completeAttachment',
      'deleteAttachment',
      'getAttachment',
      'listAttachments',
    ),
    // snapshots
    ...calls(snapshots, 'createSnapshot', 'getSnapshot', 'listSnapshots', 'updateSnapshot', 'deleteSnapshot'),
    ...calls(snapshotActions, 'resetSnapshotStatus', 'updateSnapshotStatus'),
    ...calls(snapshotMetadata, 'getSnapshotMetadata', 'setSnapshotMetadata', 'deleteSnapshotMetadataKey'),
    ...calls(revert, 'revertToSnapshot'),
    // backups
    ...calls(
      backups,
      'createBackup',
      'getBackup',
      'listBackups',
      'updateBackup',
      'deleteBackup',
      'restoreBackup',
      'exportBackupRecord',
      'importBackupRecord',
      'resetBackupStatus',
    ),
    // volume types
    ...calls(
      types,
      'createVolumeType',
      'listVolumeTypes',
      'getVolumeType',
      'deleteVolumeType',
      'getExtraSpecs',
      'setExtraSpecs',
      'deleteExtraSpec',
      'updateVolumeType',
      'getDefaultVolumeType',
    ),
    // volume type access, encryption, project defaults
    ...calls(typeAccess, 'addTypeAccess', 'removeTypeAccess', 'listTypeAccess'),
    ...calls(encryption, 'getEncryption', 'createEncryption', 'updateEncryption', 'deleteEncryption'),
    ...calls(defaultTypes, 'setDefaultType', 'getDefaultType', 'listDefaultTypes', 'unsetDefaultType'),
    ...calls(retype, 'retypeVolume'),
    // QoS specs
    ...calls(
      qos,
      'createQosSpecs',
      'listQosSpecs',
      'getQosSpecs',
      'setQosKeys',
      'deleteQosKeys',
      'deleteQosSpecs',
      'getQosAssociations',
      'associateQosSpecs',
      'disassociateQosSpecs',
      'disassociateAllQosSpecs',
    ),
    // services
    ...calls(services, 'listServices', 'setServiceDisabled', 'freezeHost', 'thawHost'),
    ...calls(logLevels, 'getLogLevels', 'setLogLevels'),
    // hosts and backends
    ...calls(hosts, 'listHosts', 'showHost', 'getCapabilities'),
    // quotas
    ...calls(
      quotas,
      'getQuotaSet',
      'getQuotaDefaults',
      'updateQuotaSet',
      'deleteQuotaSet',
      'getQuotaClassSet',
      'updateQuotaClassSet',
      'getLimits',
    ),
    // pools
    ...calls(services, 'getPools'),
    // volume transfers
    ...calls(transfers, 'createTransfer', 'getTransfer', 'listTransfers', 'deleteTransfer', 'acceptTransfer'),
    // manage existing
    ...calls(manage, 'listManageable', 'manageVolume', 'unmanageVolume', 'manageSnapshot', 'unmanageSnapshot'),
    // generic volume groups
    ...calls(
      groupTypes,
      'createGroupType',
      'listGroupTypes',
      'getGroupType',
      'groupTypeNamed',
      'updateGroupType',
      'deleteGroupType',
      'getGroupSpecs',
      'setGroupSpecs',
      'deleteGroupSpec',
    ),
    ...calls(groups, 'createGroup', 'createGroupFromSource', 'getGroup', 'listGroups', 'updateGroup', 'deleteGroup', 'resetGroupStatus'),
    ...calls(
      groupSnapshots,
      'createGroupSnapshot',
      'getGroupSnapshot',
      'listGroupSnapshots',
      'deleteGroupSnapshot',
      'resetGroupSnapshotStatus',
    ),
    // user messages
    ...calls(messages, 'listMessages', 'getMessage', 'deleteMessage'),
  };
}
