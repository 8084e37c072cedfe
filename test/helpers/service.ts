// The whole service over real HTTP for API tests: createApp (database, workflow,
// manager, driver, target) behind buildApiServer, listening on a free loopback port.

import { randomUUID } from 'node:crypto';
import type { TestContext } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApiServer } from '../../src/api/server.js';
import { createApp, type App } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config/config.js';
import { createLogger } from '../../src/observability/log.js';
import { freePort, tempDir } from './env.js';

export interface RequestOptions {
  body?: unknown;
  /** Raw body text, sent as is (for malformed-body tests). */
  rawBody?: string;
  /** Microversion to send as `OpenStack-API-Version: volume X`; none by default, like cinderclient at 3.0. */
  version?: string;
  /** Extra headers; a null value removes a default one (X-Auth-Token, Content-Type, Accept). */
  headers?: Record<string, string | null>;
}

export interface Response {
  status: number;
  headers: Headers;
  text: string;
  /** The parsed JSON body, or null when the body is empty or not JSON. */
  body: any;
}

export interface TestService {
  /** http://127.0.0.1:PORT */
  baseUrl: string;
  /** baseUrl + /v3/ + projectId, where relative request paths start. */
  endpoint: string;
  projectId: string;
  /** noauth token for projectId. */
  token: string;
  config: Config;
  app: App;
  api: FastifyInstance;
  /** `path` is relative to `endpoint` unless it starts with "/". */
  request(method: string, path: string, opts?: RequestOptions): Promise<Response>;
  /** Polls a volume until its status is one of `statuses` (creation and extension are asynchronous). */
  waitForVolume(id: string, statuses: string[], timeoutMs?: number): Promise<any>;
  close(): Promise<void>;
}

export async function startService(t: TestContext, overrides: Partial<Config> = {}): Promise<TestService> {
  const dataDir = await tempDir(t, 'cinderblock-api-');
  const logger = createLogger(process.env.CINDERBLOCK_TEST_LOG_LEVEL ?? 'silent');
  // A port freePort handed out may be taken by a concurrent test before we bind it, so a
  // start that loses that race is tried again on fresh ports.
  let config: Config;
  let app: App;
  let api: FastifyInstance;
  for (let attempt = 1; ; attempt++) {
    const [apiPort, iscsiPort] = [await freePort(), await freePort()];
    // The environment is left out so a developer's CINDERBLOCK_* settings cannot change a test.
    config = loadConfig(
      { dataDir, apiListen: `127.0.0.1:${apiPort}`, iscsiListen: `127.0.0.1:${iscsiPort}`, ...overrides },
      {},
      undefined,
    );
    try {
      app = await createApp(config, logger);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE' && attempt < 5) continue;
      throw err;
    }
    try {
      api = await buildApiServer(app.storage, { config, logger, auth: app.auth, policy: app.policy });
      await api.listen({ host: '127.0.0.1', port: apiPort });
      break;
    } catch (err) {
      await app.close();
      if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE' && attempt < 5) continue;
      throw err;
    }
  }
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await api.close();
    await app.close();
  };
  t.after(close);

  const projectId = randomUUID().replace(/-/g, '');
  const token = `admin:${projectId}`;
  const baseUrl = `http://${config.apiListen}`;
  const endpoint = `${baseUrl}/v3/${projectId}`;

  async function request(method: string, path: string, opts: RequestOptions = {}): Promise<Response> {
    const url = path.startsWith('/') ? `${baseUrl}${path}` : `${endpoint}/${path}`;
    const headers: Record<string, string | null> = {
      'X-Auth-Token': token,
      Accept: 'application/json',
      ...(opts.body !== undefined || opts.rawBody !== undefined ? { 'Content-Type': 'application/json' } : {}),
      ...(opts.version ? { 'OpenStack-API-Version': `volume ${opts.version}` } : {}),
      ...opts.headers,
    };
    const sent = Object.fromEntries(Object.entries(headers).filter((e): e is [string, string] => e[1] !== null));
    const text = opts.rawBody ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body));
    const res = await fetch(url, {
      method,
      headers: sent,
      // Bytes, not a string: fetch would otherwise add a text/plain Content-Type of its own.
      body: text === undefined ? undefined : Buffer.from(text),
      redirect: 'manual',
    });
    const answer = await res.text();
    let body: unknown = null;
    try {
      body = answer ? JSON.parse(answer) : null;
    } catch {
      body = null;
    }
    return { status: res.status, headers: res.headers, text: answer, body };
  }

  async function waitForVolume(id: string, statuses: string[], timeoutMs = 10_000): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const res = await request('GET', `volumes/${id}`);
      if (res.status !== 200) throw new Error(`GET volumes/${id}: ${res.status} ${res.text}`);
      if (statuses.includes(res.body.volume.status)) return res.body.volume;
      if (Date.now() > deadline) throw new Error(`volume ${id} stayed ${res.body.volume.status}, wanted ${statuses.join('|')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  return { baseUrl, endpoint, projectId, token, config, app, api, request, waitForVolume, close };
}
