// A frozen storage host keeps serving what it has, but nothing on it may be deleted and no
// snapshot taken there (Cinder's assert_not_frozen), until an administrator thaws it.

import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { errors } from '../errors.js';

/** The service (host@backend) a volume's host@backend#pool is on. */
function backendOf(volumeHost: string): string {
  const pool = volumeHost.indexOf('#');
  return pool < 0 ? volumeHost : volumeHost.slice(0, pool);
}

/** Refuses a change to the volume (or to its snapshots) while its storage host is frozen. */
export async function assertNotFrozen(db: Kysely<Database>, volumeId: string): Promise<void> {
  // Hosts are rarely frozen: the volume is read only when one is.
  const frozen = await db.selectFrom('services').select('host').where('frozen', '=', 1).execute();
  if (frozen.length === 0) return;
  const volume = await db.selectFrom('volumes').select('host').where('id', '=', volumeId).executeTakeFirst();
  if (volume?.host && frozen.some((service) => service.host === backendOf(volume.host!))) {
    throw errors.invalidInput('Modification operations are not allowed on frozen storage backends.');
  }
}
