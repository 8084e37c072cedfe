// Shared steps of the generic volume group tests: a volume type, a group type and a group
// of them, and polling a group or group snapshot until its background work is done.

import assert from 'node:assert/strict';
import type { TestService } from '../helpers/service.js';

export const GROUPS_VERSION = '3.20';

export async function createGroupType(s: TestService, body: Record<string, unknown> = {}): Promise<any> {
  const res = await s.request('POST', 'group_types', { body: { group_type: { name: `gt-${Math.random()}`, ...body } }, version: GROUPS_VERSION });
  assert.equal(res.status, 202, res.text);
  return res.body.group_type;
}

export async function createVolumeType(s: TestService): Promise<any> {
  const res = await s.request('POST', 'types', { body: { volume_type: { name: `vt-${Math.random()}` } } });
  assert.equal(res.status, 200, res.text);
  return res.body.volume_type;
}

/** A group of a new group type holding a new volume type, once available. */
export async function createGroup(s: TestService, body: Record<string, unknown> = {}): Promise<{ group: any; volumeType: any; groupType: any }> {
  const volumeType = await createVolumeType(s);
  const groupType = await createGroupType(s);
  const res = await s.request('POST', 'groups', {
    body: { group: { name: 'g1', group_type: groupType.id, volume_types: [volumeType.id], ...body } },
    version: GROUPS_VERSION,
  });
  assert.equal(res.status, 202, res.text);
  const group = await waitFor(s, `groups/${res.body.group.id}`, 'group', ['available']);
  return { group, volumeType, groupType };
}

export async function createGroupVolume(s: TestService, groupId: string, volumeTypeId: string): Promise<any> {
  const res = await s.request('POST', 'volumes', { body: { volume: { size: 1, volume_type: volumeTypeId, group_id: groupId } }, version: GROUPS_VERSION });
  assert.equal(res.status, 202, res.text);
  assert.equal(res.body.volume.group_id, groupId);
  await s.waitForVolume(res.body.volume.id, ['available']);
  return (await s.request('GET', `volumes/${res.body.volume.id}`, { version: GROUPS_VERSION })).body.volume;
}

/** Polls `path` until the object under `key` is in one of `statuses`; 'deleted' waits for a 404. */
export async function waitFor(s: TestService, path: string, key: string, statuses: string[]): Promise<any> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const res = await s.request('GET', path, { version: GROUPS_VERSION });
    if (res.status === 404 && statuses.includes('deleted')) return null;
    if (res.status === 200 && statuses.includes(res.body[key].status)) return res.body[key];
    if (Date.now() > deadline) throw new Error(`${path}: ${res.status} ${res.text}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
