// Shared set-up for the interop tests: a real IscsiServer on a free loopback port
// serving a real sparse file, and a way to run the peer tools with a time limit.

import type { TestContext } from 'node:test';
import { execFile } from 'node:child_process';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { IscsiServer, type IscsiServerOptions, type TargetOptions } from '../../src/iscsi/server.js';
import { openFileLogicalUnit, type FileLogicalUnit } from '../../src/iscsi/scsi/file-lu.js';
import { freePort, tempDir } from '../helpers/env.js';

export const IQN = 'iqn.2010-10.org.openstack:volume-0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b';
export const LIBISCSI_INITIATOR = 'iqn.2007-10.com.github:sahlberg:libiscsi:interop';
export const QEMU_INITIATOR = 'iqn.2008-11.org.linux-kvm';

export interface Fixture {
  server: IscsiServer;
  port: number;
  dir: string;
  lu: FileLogicalUnit;
  path: string;
  /** iscsi:// URL of LUN 0, with credentials when given. */
  url(auth?: { username: string; password: string }, query?: string): string;
}

export async function startTarget(
  t: TestContext,
  opts: { sizeBytes?: number; server?: IscsiServerOptions; target?: Partial<TargetOptions> } = {},
): Promise<Fixture> {
  const dir = await tempDir(t, 'cinderblock-iscsi-');
  const path = join(dir, 'volume.img');
  const fh = await open(path, 'w');
  await fh.truncate(opts.sizeBytes ?? 64 << 20);
  await fh.close();
  const lu = await openFileLogicalUnit({ path, serial: '0f1e2d3c4b5a69788a9b0c1d2e3f4a5b', deviceId: '0f1e2d3c4b5a69788a9b0c1d2e3f4a5b' });
  const port = await freePort();
  const server = new IscsiServer(opts.server);
  await server.listen(`127.0.0.1:${port}`);
  server.addTarget({ iqn: IQN, luns: new Map([[0, lu]]), ...opts.target });
  server.allowInitiator(IQN, LIBISCSI_INITIATOR);
  server.allowInitiator(IQN, QEMU_INITIATOR);
  t.after(async () => {
    await server.close();
    await lu.close();
  });
  return {
    server,
    port,
    dir,
    lu,
    path,
    url(auth, query) {
      const cred = auth ? `${encodeURIComponent(auth.username)}%${encodeURIComponent(auth.password)}@` : '';
      return `iscsi://${cred}127.0.0.1:${port}/${IQN}/0${query ? `?${query}` : ''}`;
    },
  };
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a peer tool; it is killed if it outlives the timeout, so no test leaves one behind. */
export function run(tool: string, args: string[], timeoutMs = 60_000): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(tool, args, { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}
