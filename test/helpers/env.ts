import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, delimiter } from 'node:path';
import { existsSync } from 'node:fs';
import type { TestContext } from 'node:test';

/** A port the kernel just handed out and released; good enough for tests on loopback. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}

/** A temporary directory removed when the test ends. */
export async function tempDir(t: TestContext, prefix = 'cinderblock-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export function findTool(name: string): string | null {
  if (name.includes('/')) return existsSync(name) ? name : null;
  for (const dir of (process.env.PATH ?? '').split(delimiter).concat(['/usr/sbin', '/sbin', '/usr/bin'])) {
    const candidate = join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  return null;
}

/**
 * Returns the tool's path. Outside CI a missing tool skips the test with a message;
 * in CI (CI=true) it fails it, so a broken install can never pass as green.
 */
export function requireTool(t: TestContext, name: string): string | null {
  const path = findTool(name);
  if (path) return path;
  if (process.env.CI === 'true') throw new Error(`required tool "${name}" is not installed`);
  t.skip(`${name} is not installed`);
  return null;
}

/** PostgreSQL for the dialect loop: in CI it must be there; elsewhere it may be skipped. */
export const POSTGRES_ADMIN_URL = process.env.CINDERBLOCK_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test';

/** RabbitMQ for the split API and volume services: in CI it must be there; elsewhere it may be skipped. */
export const RABBITMQ_URL = process.env.CINDERBLOCK_TEST_AMQP ?? 'amqp://guest:guest@127.0.0.1:5672';

/** For tests that make more volumes in one project than Cinder's default quotas allow. */
export const UNLIMITED_QUOTAS = { quotaVolumes: -1, quotaSnapshots: -1, quotaGigabytes: -1 } as const;

/** The same for a service process, by its environment. */
export const UNLIMITED_QUOTA_ENV = { CINDERBLOCK_QUOTA_VOLUMES: '-1', CINDERBLOCK_QUOTA_SNAPSHOTS: '-1', CINDERBLOCK_QUOTA_GIGABYTES: '-1' } as const;
