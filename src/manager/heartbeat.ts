import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { nowTimestamp, type Database } from '../db/schema.js';

export interface ServiceIdentity {
  /** cinder-volume, as Cinder names the storage host's service. */
  binary: string;
  /** host@backend, as os-services shows it. */
  host: string;
  zone: string;
}

/**
 * Says "still here" in the services table: once before the service answers anyone, then
 * every `intervalMs`, with what `report` says of the backend's capacity (Cinder's
 * capabilities, which the scheduler places volumes by). os-services reads a service as
 * down once its last word is older than service_down_time. A heartbeat that cannot be
 * written (the database away) is logged and tried again at the next tick. A report that
 * fails is logged and the service beats on with no capacity known, which the scheduler
 * reads as no room: a backend that cannot say what it holds gets no new volumes.
 */
export async function startHeartbeat(
  db: Kysely<Database>,
  service: ServiceIdentity,
  intervalMs: number,
  logger: Logger,
  /** Null for a service with no backend to describe (the scheduler). */
  report: (() => Promise<object>) | null,
): Promise<{ stop(): Promise<void> }> {
  const beat = async () => {
    const capabilities = report === null ? null : await report().then(
      (reported) => JSON.stringify(reported),
      (err: unknown) => {
        logger.error({ err: (err as Error).message, ...service }, 'backend capacity could not be read');
        return null;
      },
    );
    const now = nowTimestamp();
    await db
      .insertInto('services')
      .values({ binary: service.binary, host: service.host, availability_zone: service.zone, created_at: now, updated_at: now, capabilities })
      .onConflict((oc) => oc.columns(['binary', 'host']).doUpdateSet({ updated_at: now, availability_zone: service.zone, capabilities }))
      .execute();
  };
  await beat();
  let inFlight: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    inFlight = beat().catch((err: unknown) => logger.warn({ err: (err as Error).message, ...service }, 'heartbeat not written'));
  }, intervalMs);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await inFlight;
    },
  };
}
