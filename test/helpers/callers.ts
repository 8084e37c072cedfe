// Callers of a running service with a Keystone token each, and the answers Cinder gives a
// caller its policy refuses or who may not see an object.
import assert from 'node:assert/strict';

export interface Answer {
  status: number;
  body: any;
}

export type Caller = (method: string, path: string, body?: unknown, opts?: { version?: string; serviceToken?: string }) => Promise<Answer>;

export function callerFor(endpoint: string, projectId: string, token: string): Caller {
  return async (method, path, body, opts = {}) => {
    const headers: Record<string, string> = { 'X-Auth-Token': token, Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (opts.version) headers['OpenStack-API-Version'] = `volume ${opts.version}`;
    if (opts.serviceToken) headers['X-Service-Token'] = opts.serviceToken;
    const res = await fetch(`${endpoint}/${projectId}/${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = text;
    }
    return { status: res.status, body: parsed };
  };
}

export function refused(res: Answer, rule: string): void {
  assert.equal(res.status, 403, JSON.stringify(res.body));
  assert.deepEqual(res.body, { forbidden: { code: 403, message: `Policy doesn't allow ${rule} to be performed.` } });
}

export function missing(res: Answer, message: RegExp): void {
  assert.equal(res.status, 404, JSON.stringify(res.body));
  assert.match(res.body.itemNotFound.message, message);
}
