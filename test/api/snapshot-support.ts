// Snapshot helpers shared by the snapshot API tests.

import assert from 'node:assert/strict';
import type { TestService } from '../helpers/service.js';

export async function waitForSnapshot(s: TestService, id: string, statuses: string[]): Promise<any> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const res = await s.request('GET', `snapshots/${id}`);
    if (res.status === 404 && statuses.includes('deleted')) return null;
    if (res.status === 200 && statuses.includes(res.body.snapshot.status)) return res.body.snapshot;
    if (Date.now() > deadline) throw new Error(`snapshot ${id}: ${res.status} ${res.text}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** A snapshot of the volume, once it is available. */
export async function createSnapshot(s: TestService, volumeId: string, snapshot: Record<string, unknown> = {}): Promise<any> {
  const res = await s.request('POST', 'snapshots', { body: { snapshot: { volume_id: volumeId, ...snapshot } } });
  assert.equal(res.status, 202, res.text);
  return waitForSnapshot(s, res.body.snapshot.id, ['available']);
}

export function snapshotAction(s: TestService, id: string, body: unknown, version?: string) {
  return s.request('POST', `snapshots/${id}/action`, { body, ...(version ? { version } : {}) });
}
