// The few calls the interop tests make against a `cinderblock serve` they started.

import assert from 'node:assert/strict';
import type { StartedService } from '../helpers/process.js';

export function apiCalls(svc: Pick<StartedService, 'endpoint' | 'projectId' | 'token'>) {
  const call = async (method: string, path: string, body?: unknown, version = '3.42') => {
    const res = await fetch(`${svc.endpoint}/${svc.projectId}${path}`, {
      method,
      headers: { 'X-Auth-Token': svc.token, 'Content-Type': 'application/json', 'OpenStack-API-Version': `volume ${version}` },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, json: text && res.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(text) : null };
  };
  /** Polls until the volume has `status` (and `size`, when given). */
  const waitFor = async (id: string, status: string, size?: number) => {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const { json } = await call('GET', `/volumes/${id}`);
      if (json.volume.status === status && (size === undefined || json.volume.size === size)) return json.volume;
      assert.ok(Date.now() < deadline, `volume stayed ${json.volume.status}, expected ${status}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  return { call, waitFor };
}
