// How hosts reach a volume. One folder per helper (targets/builtin/, targets/tgtadm/),
// registered in targets/registry.ts. The manager owns naming and credentials and
// persists them before calling a helper; helpers only make the export real.

import type { IoLimits } from '../iscsi/scsi/throttle.js';

export interface ChapCredentials {
  username: string;
  password: string;
}

export interface ExportSpec {
  volumeId: string;
  iqn: string;
  /** Path of the backing store (the driver's volumePath). */
  backingPath: string;
  chap: ChapCredentials;
  /** Back-end QoS the target enforces on the LUN; a helper without the means ignores it. Sent again when it changes. */
  limits?: IoLimits;
}

export interface InitiatorAccess {
  initiator: string;
  /** A read-only attachment: the initiator gets DATA PROTECT on writes. Helpers that cannot enforce it say so via supportsReadOnly. */
  readOnly: boolean;
}

export interface TargetHelperContext {
  dataDir: string;
  /** host:port the iSCSI portal listens on. */
  iscsiListen: string;
  /** Extra portals announced in connection_info (target_portals), host:port. */
  extraPortals: string[];
  logger: import('pino').Logger;
}

export interface TargetHelper {
  readonly name: string;
  /** LUN the volume appears at (tgt: 1, like Cinder's tgt helper). */
  readonly lun: number;
  readonly supportsReadOnly: boolean;
  /** Starts whatever serves the exports (a listener, a supervised daemon). */
  start(): Promise<void>;
  /** Stops it and drops every session. */
  stop(): Promise<void>;
  /** Portals announced to initiators, host:port, the first being target_portal. */
  portals(): string[];
  /** Makes the target exist with its LUN and CHAP account. Idempotent. Returns the helper's target id for provider_location. */
  createExport(spec: ExportSpec): Promise<string>;
  /** Re-creates an export and its access list at start-up (from the database). */
  ensureExport(spec: ExportSpec, access: InitiatorAccess[]): Promise<string>;
  /** Removes the target; sessions on it are closed. Idempotent. */
  removeExport(volumeId: string, iqn: string): Promise<void>;
  /** Lets one initiator log in to the target. Idempotent. */
  allowInitiator(iqn: string, access: InitiatorAccess): Promise<void>;
  /** Removes the initiator from the access list and closes its live sessions on the target. Idempotent. */
  removeInitiator(iqn: string, initiator: string): Promise<void>;
  /** The backing store grew: attached initiators must see the new capacity. */
  resized(iqn: string): Promise<void>;
  /** Session and login counts, for helpers that can tell (tgtd keeps its own). */
  stats?(): TargetStats;
}

export interface TargetStats {
  /** Normal sessions logged in now. */
  sessions: number;
  loginsSucceeded: number;
  loginsFailed: number;
}
