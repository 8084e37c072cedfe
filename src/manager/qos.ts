// What a volume's QoS specs mean on this storage host: the front-end part goes to the
// host in connection_info (Cinder's _parse_connection_options), the back-end part becomes
// the limits our target enforces. Either way *_per_gb keys are resolved by the size.

import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { prepared } from '../db/prepared.js';
import { IO_LIMIT_KEYS, type IoLimits } from '../iscsi/scsi/throttle.js';

export interface VolumeQos {
  consumer: string;
  specs: Record<string, string | null>;
  sizeGiB: number;
}

const qosRows = prepared(1, (db: Kysely<Database>, volumeId: string) =>
  db
    .selectFrom('volumes as v')
    .innerJoin('volume_types as t', 't.id', 'v.volume_type_id')
    .innerJoin('qos_specs as q', 'q.id', 't.qos_specs_id')
    .leftJoin('qos_specs_keys as k', 'k.qos_specs_id', 'q.id')
    .select(['v.size', 'q.consumer', 'k.key', 'k.value'])
    .where('v.id', '=', volumeId),
);

/** The QoS specs of the volume's type, or null when it has none. */
export async function qosOfVolume(db: Kysely<Database>, volumeId: string): Promise<VolumeQos | null> {
  const { rows } = await qosRows(db, volumeId);
  const [first] = rows;
  if (!first) return null;
  const specs: Record<string, string | null> = {};
  for (const row of rows) if (row.key !== null) specs[row.key] = row.value;
  return { consumer: first.consumer, specs, sizeGiB: first.size };
}

/** Python's int() of a spec value, or NaN where it would raise. */
function integer(value: string | number | null | undefined): number {
  return typeof value === 'number' ? value : /^\s*[-+]?\d+\s*$/.test(value ?? '') ? Number(value) : NaN;
}

/**
 * Cinder's per-GB rule: `<limit>_per_gb` times the size, at least `<limit>_per_gb_min` and
 * at most `<limit>_max`, replaces `<limit>`; the helper keys go. A per-GB value that is
 * not an integer is left as it is (Cinder's attach would fail on it).
 */
function resolvePerGb(specs: Record<string, string | null>, sizeGiB: number): Record<string, string | number | null> {
  const out: Record<string, string | number | null> = { ...specs };
  for (const option of IO_LIMIT_KEYS) {
    const perGb = integer(out[`${option}_per_gb`]);
    if (!(`${option}_per_gb` in out) || Number.isNaN(perGb)) continue;
    const minimum = `${option}_per_gb_min` in out ? integer(out[`${option}_per_gb_min`]) : 0;
    const perGbValue = Math.max(minimum, perGb * sizeGiB);
    const maximum = `${option}_max` in out ? integer(out[`${option}_max`]) : perGbValue;
    delete out[`${option}_per_gb_min`];
    delete out[`${option}_max`];
    delete out[`${option}_per_gb`];
    out[option] = Math.min(perGbValue, maximum);
  }
  return out;
}

/** connection_info's qos_specs: the specs a host applies (front-end or both), or null. */
export function frontEndSpecs(qos: VolumeQos | null): Record<string, string | number | null> | null {
  if (!qos || (qos.consumer !== 'front-end' && qos.consumer !== 'both')) return null;
  return resolvePerGb(qos.specs, qos.sizeGiB);
}

/** What our target enforces (back-end or both), or undefined when nothing is limited. */
export function backEndLimits(qos: VolumeQos | null): IoLimits | undefined {
  if (!qos || (qos.consumer !== 'back-end' && qos.consumer !== 'both')) return undefined;
  const resolved = resolvePerGb(qos.specs, qos.sizeGiB);
  const limits: IoLimits = {};
  for (const key of IO_LIMIT_KEYS) {
    const value = Number(resolved[key]);
    if (Number.isFinite(value) && value > 0) limits[key] = value;
  }
  return Object.keys(limits).length > 0 ? limits : undefined;
}
