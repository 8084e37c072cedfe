// `cinderblock serve` as users run it: settings from flags, CINDERBLOCK_* variables and a
// JSON config file (flags over environment over file), the banner, clean shutdown on
// SIGTERM/SIGINT (also with nobody reading its output any more), and a clear refusal of a
// bad or busy listen address, a busy data dir or a database that cannot be opened.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { join } from 'node:path';
import { freePort, requireTool } from '../helpers/env.js';
import { CLI_PATH, run, scratchDir, spawnServe, startServeProcess } from '../helpers/process.js';

/** GET / must answer with Cinder's version document (300) on the API address. */
async function assertApiAt(port: number): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${port}/`);
  assert.equal(res.status, 300, `GET / on port ${port}`);
  const body = (await res.json()) as { versions: Array<{ id: string }> };
  assert.ok(body.versions.some((v) => v.id === 'v3.0'), 'version document lists v3.0');
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

// Every case starts its own process on its own ports, so they run a few at a time: service
// start-up dominates the time of this file.
describe('cinderblock serve', { concurrency: 3 }, () => {
  test('flags set the data dir and both listen addresses; the banner is ready to paste', async (t) => {
    const svc = await startServeProcess(t);
    await assertApiAt(svc.apiPort);
    assert.ok(await canConnect(svc.iscsiPort), 'the iSCSI portal listens on --iscsi-listen');
    assert.ok(existsSync(join(svc.dataDir, 'cinderblock.sqlite')), 'the SQLite database lives in --data-dir');

    const banner = svc.output().stdout;
    assert.match(banner, new RegExp(`http://127\\.0\\.0\\.1:${svc.apiPort}/v3`));
    assert.match(banner, new RegExp(`127\\.0\\.0\\.1:${svc.iscsiPort}`));
    const cinderLine = /^\s*(cinder --os-auth-type noauth .*)$/m.exec(banner)?.[1];
    const openstackLine = /^\s*(openstack --os-auth-type admin_token .*)$/m.exec(banner)?.[1];
    assert.ok(cinderLine, `banner has a cinder command line:\n${banner}`);
    assert.ok(openstackLine, `banner has an openstack command line:\n${banner}`);
    assert.ok(cinderLine.includes(`--os-endpoint ${svc.endpoint}/`), 'the cinder line points at this endpoint');
    assert.ok(openstackLine.includes(`--os-endpoint ${svc.endpoint}/`), 'the openstack line points at this endpoint');

    // Pasted as printed, both commands work.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(OS_|CINDER_)/.test(k)));
    for (const line of [cinderLine, openstackLine]) {
      const [tool, ...args] = line.split(/\s+/);
      const path = requireTool(t, `/usr/bin/${tool}`);
      if (!path) continue;
      const result = await run(path, args, { env, timeoutMs: 30_000 });
      assert.equal(result.code, 0, `${line}\n${result.stderr}`);
    }
  });

  test('CINDERBLOCK_* environment variables configure the service', async (t) => {
    const dataDir = await scratchDir(t);
    const apiPort = await freePort();
    const iscsiPort = await freePort();
    await spawnServe(t, [], {
      CINDERBLOCK_DATA_DIR: dataDir,
      CINDERBLOCK_API_LISTEN: `127.0.0.1:${apiPort}`,
      CINDERBLOCK_ISCSI_LISTEN: `127.0.0.1:${iscsiPort}`,
    });
    await assertApiAt(apiPort);
    assert.ok(await canConnect(iscsiPort), 'iSCSI portal from CINDERBLOCK_ISCSI_LISTEN');
    assert.ok(existsSync(join(dataDir, 'cinderblock.sqlite')), 'database in CINDERBLOCK_DATA_DIR');
  });

  test('config file settings apply, the environment overrides them and flags override both', async (t) => {
    const dir = await scratchDir(t);
    const dataDir = join(dir, 'from-file');
    const [fileApi, envApi, fileIscsi, flagIscsi] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    const configFile = join(dir, 'cinderblock.json');
    await writeFile(
      configFile,
      JSON.stringify({ data_dir: dataDir, api_listen: `127.0.0.1:${fileApi}`, iscsi_listen: `127.0.0.1:${fileIscsi}` }),
    );
    await spawnServe(t, ['--config', configFile, '--iscsi-listen', `127.0.0.1:${flagIscsi}`], {
      CINDERBLOCK_API_LISTEN: `127.0.0.1:${envApi}`,
    });
    await assertApiAt(envApi);
    assert.equal(await canConnect(fileApi), false, 'the file api_listen is overridden by the environment');
    assert.ok(await canConnect(flagIscsi), 'the --iscsi-listen flag wins over the file');
    assert.equal(await canConnect(fileIscsi), false, 'the file iscsi_listen is overridden by the flag');
    assert.ok(existsSync(join(dataDir, 'cinderblock.sqlite')), 'data_dir from the file');
  });

  test('CINDERBLOCK_CONFIG names the config file', async (t) => {
    const dir = await scratchDir(t);
    const apiPort = await freePort();
    const configFile = join(dir, 'cinderblock.json');
    await writeFile(
      configFile,
      JSON.stringify({ data_dir: join(dir, 'data'), api_listen: `127.0.0.1:${apiPort}`, iscsi_listen: `127.0.0.1:${await freePort()}` }),
    );
    await spawnServe(t, [], { CINDERBLOCK_CONFIG: configFile });
    await assertApiAt(apiPort);
    assert.ok(existsSync(join(dir, 'data', 'cinderblock.sqlite')));
  });

  test('without a data dir setting, data goes to ./cinderblock-data', async (t) => {
    const cwd = await scratchDir(t);
    const apiPort = await freePort();
    await spawnServe(t, ['--api-listen', `127.0.0.1:${apiPort}`, '--iscsi-listen', `127.0.0.1:${await freePort()}`], {}, { cwd });
    await assertApiAt(apiPort);
    assert.ok(existsSync(join(cwd, 'cinderblock-data', 'cinderblock.sqlite')));
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    test(`${signal} shuts down cleanly and releases both ports`, async (t) => {
      const svc = await startServeProcess(t);
      await assertApiAt(svc.apiPort);
      const ended = await svc.stop(signal);
      assert.deepEqual(ended, { code: 0, signal: null }, `exit after ${signal}\n${svc.output().stderr}`);
      assert.ok(await canBind(svc.apiPort), 'API port released');
      assert.ok(await canBind(svc.iscsiPort), 'iSCSI port released');
    });
  }

  test('SIGTERM still shuts it down after the reader of its output has gone', async (t) => {
    const svc = await startServeProcess(t);
    // A request's log line is waiting in the batch when the pipe closes.
    await assertApiAt(svc.apiPort);
    svc.proc.stdout!.destroy();
    const ended = await svc.stop('SIGTERM');
    assert.deepEqual(ended, { code: 0, signal: null }, `exit after SIGTERM with stdout closed\n${svc.output().stderr}`);
    assert.ok(await canBind(svc.apiPort), 'API port released');
  });

  test('a database that cannot be opened is named in the error, without its password', async (t) => {
    const dataDir = await scratchDir(t);
    const ports = ['--api-listen', `127.0.0.1:${await freePort()}`, '--iscsi-listen', `127.0.0.1:${await freePort()}`];
    const notSqlite = join(dataDir, 'not-a-database.sqlite');
    await writeFile(notSqlite, 'these bytes are not a SQLite database, not even its header\n'.repeat(100));
    const corrupt = await run(process.execPath, [CLI_PATH, 'serve', '--data-dir', dataDir, '--database', notSqlite, ...ports], { timeoutMs: 20_000 });
    assert.notEqual(corrupt.code, 0);
    assert.notEqual(corrupt.code, null, 'it exits instead of hanging');
    assert.ok(corrupt.stderr.includes(`cannot open database ${notSqlite}`), corrupt.stderr);
    assert.match(corrupt.stderr, /not a database/);
    assert.doesNotMatch(corrupt.stderr, /^\s+at /m, 'a message, not a stack trace');

    const unreachable = `postgres://cinder:s3cret-pw@127.0.0.1:${await freePort()}/cinder`;
    const refused = await run(process.execPath, [CLI_PATH, 'serve', '--data-dir', dataDir, '--database', unreachable, ...ports], { timeoutMs: 30_000 });
    assert.notEqual(refused.code, 0);
    assert.notEqual(refused.code, null, 'it exits instead of hanging');
    assert.match(refused.stderr, /cannot open database postgres:\/\/cinder:\*\*\*@127\.0\.0\.1:\d+\/cinder: .*ECONNREFUSED/);
    assert.ok(!`${refused.stdout}${refused.stderr}`.includes('s3cret-pw'), 'the password appears nowhere');
  });

  test('a malformed --api-listen is refused with a clear error', async (t) => {
    const dataDir = await scratchDir(t);
    const result = await run(process.execPath, [CLI_PATH, 'serve', '--data-dir', dataDir, '--api-listen', 'localhost-8776'], {
      timeoutMs: 20_000,
    });
    assert.notEqual(result.code, 0);
    assert.notEqual(result.code, null, 'it exits instead of hanging');
    assert.match(result.stderr, /api_listen/);
    assert.match(result.stderr, /localhost-8776/);
    assert.doesNotMatch(result.stderr, /^\s+at /m, 'a message, not a stack trace');
  });

  test('a log level the logger does not know is refused, naming the setting', async (t) => {
    const dataDir = await scratchDir(t);
    const result = await run(process.execPath, [CLI_PATH, 'serve', '--data-dir', dataDir, '--log-level', 'chatty'], { timeoutMs: 20_000 });
    assert.notEqual(result.code, 0);
    assert.notEqual(result.code, null, 'it exits instead of hanging');
    assert.match(result.stderr, /setting log_level: expected one of fatal, error, warn, info, debug, trace, silent, got "chatty"/);
  });

  test('an --api-listen address already in use is refused with a clear error', async (t) => {
    const dataDir = await scratchDir(t);
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise<void>((resolve) => busy.close(() => resolve())));
    const port = (busy.address() as { port: number }).port;
    const result = await run(
      process.execPath,
      [CLI_PATH, 'serve', '--data-dir', dataDir, '--api-listen', `127.0.0.1:${port}`, '--iscsi-listen', `127.0.0.1:${await freePort()}`],
      { timeoutMs: 20_000 },
    );
    assert.notEqual(result.code, 0);
    assert.notEqual(result.code, null, 'it exits instead of hanging');
    assert.match(result.stderr, new RegExp(`127\\.0\\.0\\.1:${port}`));
    assert.match(result.stderr, /in use|EADDRINUSE/i);
  });

  test('a second service on the same data dir is refused; the first one dying, even by SIGKILL, frees it', async (t) => {
    const first = await startServeProcess(t);
    const otherPorts = async () => ['--api-listen', `127.0.0.1:${await freePort()}`, '--iscsi-listen', `127.0.0.1:${await freePort()}`];
    const second = await run(process.execPath, [CLI_PATH, 'serve', '--data-dir', first.dataDir, ...(await otherPorts())], { timeoutMs: 20_000 });
    assert.notEqual(second.code, 0);
    assert.notEqual(second.code, null, 'it exits instead of hanging');
    assert.match(second.stderr, /in use by another cinderblock service/);
    assert.ok(second.stderr.includes(first.dataDir), `the message names the data dir:\n${second.stderr}`);
    assert.doesNotMatch(second.stderr, /^\s+at /m, 'a message, not a stack trace');
    await assertApiAt(first.apiPort);

    assert.equal((await first.stop('SIGKILL')).signal, 'SIGKILL');
    const args = await otherPorts();
    await spawnServe(t, ['--data-dir', first.dataDir, ...args]);
    await assertApiAt(Number(args[1]!.split(':')[1]));
  });
});
