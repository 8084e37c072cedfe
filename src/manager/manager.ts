import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../db/schema.js';
import { nowTimestamp } from '../db/schema.js';
import { prepared } from '../db/prepared.js';
import type { BackupLocation } from '../backups/driver.js';
import type { BackendKind, BackendObject, VolumeDriver } from '../drivers/driver.js';
import { errors } from '../errors.js';
import { logLevelsOf, settableLevel } from '../observability/log-levels.js';
import type { ChapCredentials, ExportSpec, InitiatorAccess, TargetHelper } from '../targets/target.js';
import type { ConnectionInfo, Connector } from '../volumes/types.js';
import { formatProviderAuth, generateChap, parseProviderAuth } from './chap.js';
import { KeyedLock } from '../db/keyed-lock.js';
import { formatProviderLocation, parseProviderLocation } from './provider-location.js';
import type { BackupCopier, BackupRequest, BackupResult } from './backups.js';
import { backEndLimits, frontEndSpecs, qosOfVolume, type VolumeQos } from './qos.js';

export interface ManagerOptions {
  targetPrefix: string;
  /** os-vol-host-attr:host of the volumes this manager serves; others sharing the database are left alone. */
  volumeHost: string;
  /**
   * Makes the commits so far durable (DatabaseHandle.syncCommitted). Called before a new
   * CHAP account or target location is published: a host told them cannot be told
   * again, so they must outlive a power loss of this host, which ordinary commits may not.
   */
  syncCommitted?: () => Promise<void>;
  /** The backup store this host copies volumes into; without one, backup calls fail. */
  backups?: BackupCopier;
}

// The queries every connect and disconnect runs, compiled once (see prepared()).
const Q = {
  exportFacts: prepared(1, (db: Kysely<Database>, volumeId: string) =>
    db.selectFrom('volumes').select(['provider_auth', 'provider_location']).where('id', '=', volumeId),
  ),
  /**
   * Everything connection_info is made of, and the initiator's grants on the volume: one
   * row per grant, or one whose grant columns are null when it has none.
   */
  connectFacts: prepared(2, (db: Kysely<Database>, volumeId: string, initiator: string) =>
    db
      .selectFrom('volumes as v')
      .leftJoin('volume_type_extra_specs as s', (join) => join.onRef('s.volume_type_id', '=', 'v.volume_type_id').on('s.key', '=', 'cacheable'))
      .leftJoin('volume_connections as c', (join) => join.onRef('c.volume_id', '=', 'v.id').on('c.initiator', '=', initiator))
      .select(['v.provider_location', 'v.provider_auth', 'v.encrypted', 's.value as cacheable', 'c.attachment_id', 'c.read_only'])
      .where('v.id', '=', volumeId),
  ),
  claimAuth: prepared(2, (db: Kysely<Database>, auth: string, volumeId: string) =>
    db.updateTable('volumes').set({ provider_auth: auth }).where('id', '=', volumeId).where('provider_auth', 'is', null),
  ),
  setLocation: prepared(3, (db: Kysely<Database>, location: string, now: string, volumeId: string) =>
    db.updateTable('volumes').set({ provider_location: location, updated_at: now }).where('id', '=', volumeId),
  ),
  saveConnection: prepared(
    6,
    (db: Kysely<Database>, volumeId: string, initiator: string, attachmentId: string, readOnly: number, connector: string, now: string) =>
      db
        .insertInto('volume_connections')
        .values({ volume_id: volumeId, initiator, attachment_id: attachmentId, read_only: readOnly, connector, created_at: now })
        .onConflict((oc) => oc.columns(['volume_id', 'initiator', 'attachment_id']).doUpdateSet({ read_only: readOnly, connector })),
  ),
  moveAttachment: prepared(3, (db: Kysely<Database>, volumeId: string, attachmentId: string, initiator: string) =>
    db
      .deleteFrom('volume_connections')
      .where('volume_id', '=', volumeId)
      .where('attachment_id', '=', attachmentId)
      .where('initiator', '!=', initiator)
      .returning('initiator'),
  ),
  grantsOf: prepared(2, (db: Kysely<Database>, volumeId: string, initiator: string) =>
    db.selectFrom('volume_connections').select(['attachment_id', 'read_only']).where('volume_id', '=', volumeId).where('initiator', '=', initiator),
  ),
  releaseAttachment: prepared(2, (db: Kysely<Database>, volumeId: string, attachmentId: string) =>
    db.deleteFrom('volume_connections').where('volume_id', '=', volumeId).where('attachment_id', '=', attachmentId).returning('initiator'),
  ),
  anyGrant: prepared(1, (db: Kysely<Database>, volumeId: string) =>
    db.selectFrom('volume_connections').select(['initiator']).where('volume_id', '=', volumeId).limit(1),
  ),
  legacyGrants: prepared(1, (db: Kysely<Database>, volumeId: string) =>
    db.selectFrom('volume_connections').selectAll().where('volume_id', '=', volumeId).where('attachment_id', '=', '').orderBy('created_at', 'desc'),
  ),
  adoptGrant: prepared(3, (db: Kysely<Database>, attachmentId: string, volumeId: string, initiator: string) =>
    db
      .updateTable('volume_connections')
      .set({ attachment_id: attachmentId })
      .where('volume_id', '=', volumeId)
      .where('initiator', '=', initiator)
      .where('attachment_id', '=', ''),
  ),
  /** The volume's location and every grant it still has (one row with a null initiator when none). */
  remainingGrants: prepared(1, (db: Kysely<Database>, volumeId: string) =>
    db
      .selectFrom('volumes as v')
      .leftJoin('volume_connections as c', 'c.volume_id', 'v.id')
      .select(['v.provider_location', 'c.initiator', 'c.read_only'])
      .where('v.id', '=', volumeId),
  ),
  deleteGrant: prepared(3, (db: Kysely<Database>, volumeId: string, initiator: string, attachmentId: string) =>
    db.deleteFrom('volume_connections').where('volume_id', '=', volumeId).where('initiator', '=', initiator).where('attachment_id', '=', attachmentId),
  ),
};

/**
 * A helper's failure may quote the command or config it wrote, which holds the CHAP
 * password (tgt's `incominguser`). Errors leaving the manager are logged and may reach
 * a client, so the password is cut out of them here.
 */
async function withoutSecret<T>(secret: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (!message.includes(secret)) throw err;
    throw new Error(message.split(secret).join('***'));
  }
}

export interface ConnectOptions {
  /** The attachment this connection serves; '' for the legacy action, which has none yet. */
  attachmentId: string;
  accessMode: 'rw' | 'ro';
}

/**
 * The storage-host side of the workflow: the backend driver (bytes) and the target
 * helper (exports), plus the export facts the database must hold for them. It never
 * changes a volume's status; the workflow owns the state machine.
 */
export class VolumeManager {
  private readonly locks = new KeyedLock();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly driver: VolumeDriver,
    private readonly helper: TargetHelper,
    private readonly options: ManagerOptions,
    private readonly logger: Logger,
  ) {}

  iqnOf(volumeId: string): string {
    return `${this.options.targetPrefix}volume-${volumeId}`;
  }

  createVolume(volumeId: string, sizeGiB: number): Promise<void> {
    return this.locks.run(volumeId, () => this.driver.createVolume(volumeId, sizeGiB));
  }

  /** The source's lock is not taken: a clone of an attached volume copies it as it is, as Cinder's LVM driver does. */
  cloneVolume(volumeId: string, sourceId: string, sizeGiB: number): Promise<void> {
    return this.locks.run(volumeId, () => this.driver.cloneVolume(volumeId, sourceId, sizeGiB));
  }

  /** Under the volume's lock: a snapshot is not taken while the volume is being created, extended or deleted. */
  createSnapshot(volumeId: string, snapshotId: string): Promise<void> {
    return this.locks.run(volumeId, () => this.driver.createSnapshot(volumeId, snapshotId));
  }

  deleteSnapshot(volumeId: string, snapshotId: string): Promise<void> {
    return this.locks.run(volumeId, () => this.driver.deleteSnapshot(snapshotId));
  }

  createVolumeFromSnapshot(volumeId: string, snapshotId: string, sizeGiB: number): Promise<void> {
    return this.locks.run(volumeId, () => this.driver.createVolumeFromSnapshot(volumeId, snapshotId, sizeGiB));
  }

  /**
   * The volume's lock is not taken, as for a clone: the volume (backing-up) or snapshot
   * cannot go meanwhile, and an attached volume is copied as it is.
   */
  backupVolume(volumeId: string, snapshotId: string | null, req: BackupRequest): Promise<BackupResult> {
    const source = snapshotId ? this.driver.snapshotPath(snapshotId) : this.driver.volumePath(volumeId);
    return this.backupStore().backup(source, req);
  }

  /** `chain`: the backup and its ancestors, newest first. */
  restoreBackup(volumeId: string, chain: BackupLocation[]): Promise<void> {
    return this.locks.run(volumeId, () => this.backupStore().restore(this.driver.volumePath(volumeId), chain));
  }

  /** `volumeId` is the backup's volume, which names the host whose store holds it. */
  deleteBackup(_volumeId: string, at: BackupLocation): Promise<void> {
    return this.backupStore().delete(at);
  }

  hasBackup(_volumeId: string, service: string, at: BackupLocation): Promise<boolean> {
    return this.backupStore().has(service, at);
  }

  private backupStore(): BackupCopier {
    if (!this.options.backups) throw new Error('this storage host has no backup store');
    return this.options.backups;
  }

  revertToSnapshot(volumeId: string, snapshotId: string): Promise<void> {
    return this.locks.run(volumeId, () => this.driver.revertToSnapshot(volumeId, snapshotId));
  }

  deleteVolume(volumeId: string): Promise<void> {
    return this.locks.run(volumeId, async () => {
      await this.withdrawExport(volumeId);
      await this.driver.deleteVolume(volumeId);
    });
  }

  /** No host reaches the volume any more, nor can a restart give it back to one. */
  private async withdrawExport(volumeId: string): Promise<void> {
    await this.db.deleteFrom('volume_connections').where('volume_id', '=', volumeId).execute();
    await this.helper.removeExport(volumeId, this.iqnOf(volumeId));
  }

  /** One manager serves one backend: whichever of its hosts the call named, the answer is this backend's. */
  listBackendObjects(_storageHost: string, kind: BackendKind): Promise<BackendObject[]> {
    return this.driver.listBackendObjects(kind);
  }

  sizeOfExisting(_volumeId: string, kind: BackendKind, sourceName: string): Promise<number> {
    return this.driver.sizeOfExisting(kind, sourceName);
  }

  /** Under the volume's lock, so a snapshot adopted for it does not race the volume's own steps. */
  manageExisting(volumeId: string, kind: BackendKind, id: string, sourceName: string): Promise<void> {
    return this.locks.run(volumeId, () => this.driver.manageExisting(kind, id, sourceName));
  }

  /** deleteVolume without the delete: the file stays where it is, under the volume's name. */
  unmanageVolume(volumeId: string): Promise<void> {
    return this.locks.run(volumeId, () => this.withdrawExport(volumeId));
  }

  /** This process's loggers, which are the storage host's: Cinder's get_log_levels on cinder-volume. */
  async getLogLevels(_storageHost: string, prefix: string): Promise<Record<string, string>> {
    return logLevelsOf(this.logger).get(prefix);
  }

  async setLogLevels(_storageHost: string, prefix: string, level: string): Promise<void> {
    if (settableLevel(level) === null) throw errors.invalidInput(`${level} is not a valid log level.`);
    logLevelsOf(this.logger).set(prefix, level);
  }

  extendVolume(volumeId: string, newSizeGiB: number): Promise<void> {
    return this.locks.run(volumeId, async () => {
      await this.driver.extendVolume(volumeId, newSizeGiB);
      if (!(await this.hasGrants(volumeId))) return;
      await this.helper.resized(this.iqnOf(volumeId));
      // Per-GB limits grow with the volume; its row gets the new size only after this returns.
      await this.reexport(volumeId, newSizeGiB);
    });
  }

  /** The QoS specs of the volume's type changed: a live export takes the limits they give now. */
  refreshLimits(volumeId: string): Promise<void> {
    return this.locks.run(volumeId, async () => {
      if (await this.hasGrants(volumeId)) await this.reexport(volumeId);
    });
  }

  /** Under the volume's lock, for a volume that is exported. */
  private async reexport(volumeId: string, sizeGiB?: number): Promise<void> {
    const [row] = (await Q.exportFacts(this.db, volumeId)).rows;
    const chap = parseProviderAuth(row?.provider_auth ?? null);
    if (!chap) return;
    const { spec } = await this.exportSpec(volumeId, chap, sizeGiB);
    await withoutSecret(chap.password, () => this.helper.createExport(spec));
  }

  /** The export as the helper gets it, and the QoS specs its limits came from. */
  private async exportSpec(volumeId: string, chap: ChapCredentials, sizeGiB?: number): Promise<{ spec: ExportSpec; qos: VolumeQos | null }> {
    const stored = await qosOfVolume(this.db, volumeId);
    const qos = stored && sizeGiB !== undefined ? { ...stored, sizeGiB } : stored;
    const limits = backEndLimits(qos);
    const spec: ExportSpec = { volumeId, iqn: this.iqnOf(volumeId), backingPath: this.driver.volumePath(volumeId), chap, ...(limits ? { limits } : {}) };
    return { spec, qos };
  }

  /**
   * validate_connector, create_export, initialize_connection. The CHAP account and the
   * location are in the database before the target exists and before the answer leaves,
   * so a restart can rebuild exactly what the initiator was told.
   */
  initializeConnection(volumeId: string, connector: Connector, opts: ConnectOptions): Promise<ConnectionInfo> {
    const initiator = connector['initiator'];
    if (typeof initiator !== 'string' || initiator === '') {
      return Promise.reject(errors.invalidInput("Connector doesn't have required information: initiator"));
    }
    return this.locks.run(volumeId, async () => {
      const { chap, location: stored, created, facts } = await this.persistedExport(volumeId, initiator);
      const iqn = this.iqnOf(volumeId);
      const { spec, qos } = await this.exportSpec(volumeId, chap);
      const tid = await withoutSecret(chap.password, () => this.helper.createExport(spec));
      const location = formatProviderLocation({ portals: this.helper.portals(), tid, iqn, lun: this.helper.lun });
      // Usually the same as last time; a write saved is a commit saved.
      if (location !== stored) await Q.setLocation(this.db, location, nowTimestamp(), volumeId);

      const readOnly = opts.accessMode === 'ro' ? 1 : 0;
      await Q.saveConnection(this.db, volumeId, initiator, opts.attachmentId, readOnly, JSON.stringify(connector), nowTimestamp());
      // An attachment updated with another host's connector moves: the old host loses access.
      if (opts.attachmentId !== '') {
        const { rows: moved } = await Q.moveAttachment(this.db, volumeId, opts.attachmentId, initiator);
        for (const row of moved) await this.revokeIfUnused(volumeId, iqn, row.initiator);
      }
      // The initiator's grants were read with the export facts, under this lock; the one
      // just saved replaces its earlier version (the move above only touched other initiators).
      const others = facts.grants.filter((grant) => grant.attachment_id !== opts.attachmentId);
      await this.setAccess(iqn, initiator, [...others, { read_only: readOnly }]);
      if (created || location !== stored) await this.options.syncCommitted?.();
      // The account was read back from the database and the location is the one stored.
      const published = { location, chap, encrypted: facts.encrypted, cacheable: facts.cacheable, qosSpecs: frontEndSpecs(qos) };
      return connectionInfo(volumeId, published, connector, opts.accessMode);
    });
  }

  /**
   * Legacy os-terminate_connection: the initiator loses access unless another
   * connection of this volume still uses it (two attachments on one host), as Cinder's
   * LVM driver decides. The export itself stays until detach. Rejects with "not found",
   * before changing anything, for a volume that is not there.
   */
  terminateConnection(volumeId: string, connector: Connector | null): Promise<void> {
    const initiator = connector?.['initiator'];
    if (typeof initiator !== 'string' || initiator === '') return Promise.resolve();
    return this.locks.run(volumeId, async () => {
      const { rows } = await Q.connectFacts(this.db, volumeId, initiator);
      if (rows.length === 0) throw errors.volumeNotFound(volumeId);
      const grants = rows.filter((row): row is typeof row & { attachment_id: string } => row.attachment_id !== null);
      const removed = grants.length <= 1 ? grants : grants.filter((g) => g.attachment_id === '');
      for (const grant of removed) await Q.deleteGrant(this.db, volumeId, initiator, grant.attachment_id);
      // Under the volume's lock nothing else changes its grants: what is left is known.
      const left = grants.filter((g) => !removed.includes(g));
      await this.setAccess(this.iqnOf(volumeId), initiator, left);
    });
  }

  /**
   * An attachment goes (detach, attachment delete): its grants go, initiators nobody
   * else uses lose access, and the export goes with the last connection.
   */
  releaseAttachment(volumeId: string, attachmentId: string): Promise<void> {
    return this.locks.run(volumeId, async () => {
      const iqn = this.iqnOf(volumeId);
      const { rows: released } = await Q.releaseAttachment(this.db, volumeId, attachmentId);
      // One read answers what each released initiator keeps and whether the export goes.
      const { rows: remaining } = await Q.remainingGrants(this.db, volumeId);
      for (const initiator of new Set(released.map((row) => row.initiator))) {
        await this.setAccess(iqn, initiator, remaining.filter((row) => row.initiator === initiator));
      }
      // The export goes with its last connection.
      if (remaining[0]?.provider_location && remaining.every((row) => row.initiator === null)) await this.helper.removeExport(volumeId, iqn);
    });
  }

  /** Gives a legacy grant (made before os-attach created the attachment) to that attachment. */
  adoptLegacyConnection(volumeId: string, attachmentId: string, hostName: string | null): Promise<Connector | null> {
    return this.locks.run(volumeId, async () => {
      const { rows: legacy } = await Q.legacyGrants(this.db, volumeId);
      const parsed = legacy.map((row) => ({ row, connector: JSON.parse(row.connector) as Connector }));
      const chosen =
        parsed.find((p) => hostName !== null && p.connector['host'] === hostName) ?? (parsed.length === 1 ? parsed[0] : undefined);
      if (!chosen) return null;
      await Q.adoptGrant(this.db, attachmentId, volumeId, chosen.row.initiator);
      return chosen.connector;
    });
  }

  /** Every grant and the export go (an admin reset a volume to detached). */
  revokeAll(volumeId: string): Promise<void> {
    return this.locks.run(volumeId, async () => {
      const iqn = this.iqnOf(volumeId);
      const grants = await this.db.deleteFrom('volume_connections').where('volume_id', '=', volumeId).returning('initiator').execute();
      for (const initiator of new Set(grants.map((g) => g.initiator))) await this.helper.removeInitiator(iqn, initiator);
      if (await this.isExported(volumeId)) await this.helper.removeExport(volumeId, iqn);
    });
  }

  /**
   * Start-up: every volume somebody is connected to gets its target, CHAP account and
   * access list back, from the database alone. A volume that fails is logged and the
   * others still come back.
   */
  async ensureExports(): Promise<{ restored: number; failed: number }> {
    const rows = await this.db
      .selectFrom('volume_connections as c')
      .innerJoin('volumes as v', 'v.id', 'c.volume_id')
      .select(['c.volume_id', 'c.initiator', 'c.read_only', 'v.provider_auth'])
      .where('v.host', '=', this.options.volumeHost)
      .execute();
    const byVolume = new Map<string, { auth: string | null; access: Map<string, boolean> }>();
    for (const row of rows) {
      const entry = byVolume.get(row.volume_id) ?? { auth: row.provider_auth, access: new Map<string, boolean>() };
      entry.access.set(row.initiator, (entry.access.get(row.initiator) ?? true) && row.read_only === 1);
      byVolume.set(row.volume_id, entry);
    }
    let restored = 0;
    let failed = 0;
    for (const [volumeId, entry] of byVolume) {
      const chap = parseProviderAuth(entry.auth);
      if (!chap) {
        this.logger.error({ volumeId }, 'connected volume has no CHAP account recorded; export not restored');
        failed++;
        continue;
      }
      const iqn = this.iqnOf(volumeId);
      const access: InitiatorAccess[] = [...entry.access].map(([initiator, readOnly]) => ({ initiator, readOnly }));
      try {
        await this.locks.run(volumeId, async () => {
          const { spec } = await this.exportSpec(volumeId, chap);
          const tid = await withoutSecret(chap.password, () => this.helper.ensureExport(spec, access));
          const location = formatProviderLocation({ portals: this.helper.portals(), tid, iqn, lun: this.helper.lun });
          await this.db.updateTable('volumes').set({ provider_location: location }).where('id', '=', volumeId).execute();
        });
        restored++;
      } catch (err) {
        failed++;
        this.logger.error({ volumeId, err: (err as Error).message }, 'export could not be restored');
      }
    }
    return { restored, failed };
  }

  /**
   * The volume's CHAP account (created and stored on first use), its recorded location,
   * the rest of what connection_info is made of, and the initiator's grants.
   */
  private async persistedExport(volumeId: string, initiator: string) {
    let rows = (await Q.connectFacts(this.db, volumeId, initiator)).rows;
    const created = rows.length > 0 && rows[0]!.provider_auth === null;
    if (created) {
      // Set only if still unset, then read back: two services racing on one volume end up
      // announcing the same account.
      await Q.claimAuth(this.db, formatProviderAuth(generateChap()), volumeId);
      rows = (await Q.connectFacts(this.db, volumeId, initiator)).rows;
    }
    const [row] = rows;
    if (!row) throw errors.volumeNotFound(volumeId);
    const chap = parseProviderAuth(row.provider_auth);
    if (!chap) throw new Error(`volume ${volumeId} has an unusable provider_auth`);
    const grants = rows.filter((r) => r.attachment_id !== null);
    return { chap, location: row.provider_location, created, facts: { encrypted: row.encrypted, cacheable: row.cacheable, grants } };
  }

  /** Brings the target's entry for one initiator in line with its remaining connections. */
  private async revokeIfUnused(volumeId: string, iqn: string, initiator: string): Promise<void> {
    const { rows } = await Q.grantsOf(this.db, volumeId, initiator);
    await this.setAccess(iqn, initiator, rows);
  }

  /** An initiator is read-only on the target only when every one of its connections is; with none left it goes. */
  private async setAccess(iqn: string, initiator: string, grants: readonly { read_only: number | null }[]): Promise<void> {
    if (grants.length === 0) await this.helper.removeInitiator(iqn, initiator);
    else await this.helper.allowInitiator(iqn, { initiator, readOnly: grants.every((g) => g.read_only === 1) });
  }

  private async hasGrants(volumeId: string): Promise<boolean> {
    const { rows } = await Q.anyGrant(this.db, volumeId);
    return rows.length > 0;
  }

  private async isExported(volumeId: string): Promise<boolean> {
    const [row] = (await Q.exportFacts(this.db, volumeId)).rows;
    return Boolean(row?.provider_location);
  }
}

/** connection_info assembled only from what the database holds (the seed's "formatting" step). */
function connectionInfo(
  volumeId: string,
  stored: { location: string; chap: ChapCredentials; encrypted: number; cacheable: string | null; qosSpecs: Record<string, unknown> | null },
  connector: Connector,
  accessMode: 'rw' | 'ro',
): ConnectionInfo {
  const location = parseProviderLocation(stored.location);
  const { chap } = stored;
  if (!location || location.portals.length === 0) throw new Error(`volume ${volumeId} has no usable export recorded`);
  const data: Record<string, unknown> = {
    target_discovered: false,
    target_portal: location.portals[0],
    target_iqn: location.iqn,
    target_lun: location.lun,
  };
  if (location.portals.length > 1 || connector['multipath'] === true) {
    data['target_portals'] = location.portals;
    data['target_iqns'] = location.portals.map(() => location.iqn);
    data['target_luns'] = location.portals.map(() => location.lun);
  }
  Object.assign(data, {
    volume_id: volumeId,
    auth_method: 'CHAP',
    auth_username: chap.username,
    auth_password: chap.password,
    encrypted: stored.encrypted === 1,
    qos_specs: stored.qosSpecs,
    access_mode: accessMode,
    cacheable: stored.cacheable === '<is> True',
  });
  return { driver_volume_type: 'iscsi', data };
}
