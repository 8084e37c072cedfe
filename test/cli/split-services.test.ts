// `cinderblock volume` and `cinderblock api` as an operator who has outgrown one machine
// runs them: one storage host, two API services in front of it, sharing a PostgreSQL
// database and talking over RabbitMQ. Every process is real and every request goes over
// real HTTP, so what is tested is what the split changes: the RPC, the per-volume lock
// shared by the API services, and what the API answers when the storage host is gone.
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, connect, type Socket } from 'node:net';
import amqp from 'amqplib';
import { createTestDatabase, postgresSkip, type TestDatabase } from '../helpers/databases.js';
import { freePort, RABBITMQ_URL, requireTool, UNLIMITED_QUOTA_ENV } from '../helpers/env.js';
import { CLI_PATH, describe as describeOutput, run, scratchDir, spawnServe, type ServeProcess } from '../helpers/process.js';

async function rabbitmqSkip(): Promise<string | false> {
  try {
    const connection = await amqp.connect(RABBITMQ_URL);
    await connection.close();
    return false;
  } catch (err) {
    const problem = `RabbitMQ at ${RABBITMQ_URL} is not reachable: ${(err as Error).message}`;
    if (process.env.CI === 'true') throw new Error(`${problem} (required in CI)`);
    return problem;
  }
}

const skip = postgresSkip || (await rabbitmqSkip());

interface Api {
  service: ServeProcess;
  port: number;
  call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any; text: string }>;
}

/** The log says why; it is written asynchronously, so it may trail the answer a little. */
async function assertLogs(service: ServeProcess, reason: RegExp): Promise<void> {
  for (let i = 0; i < 100 && !reason.test(service.output().stdout); i++) await new Promise((resolve) => setTimeout(resolve, 20));
  assert.match(service.output().stdout, reason);
}

/**
 * A TCP relay to RabbitMQ that a test can cut, as a broker restart or a network fault
 * would: every relayed connection is dropped, and new ones are refused until it is
 * restored.
 */
async function brokerRelay(t: TestContext): Promise<{ url: string; cut(): void; restore(): void }> {
  const broker = new URL(RABBITMQ_URL);
  const sockets = new Set<Socket>();
  let down = false;
  const relay = createServer((client) => {
    if (down) return client.destroy();
    const upstream = connect(Number(broker.port || 5672), broker.hostname);
    for (const [a, b] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      sockets.add(a);
      a.pipe(b);
      a.on('error', () => b.destroy());
      a.on('close', () => {
        sockets.delete(a);
        b.destroy();
      });
    }
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const socket of sockets) socket.destroy();
    relay.close();
  });
  const port = (relay.address() as { port: number }).port;
  const url = new URL(RABBITMQ_URL);
  url.host = `127.0.0.1:${port}`;
  return {
    url: url.toString(),
    cut() {
      down = true;
      for (const socket of sockets) socket.destroy();
    },
    restore() {
      down = false;
    },
  };
}

const PROJECT = randomBytes(16).toString('hex');
const CONNECTOR = { initiator: 'iqn.1993-08.org.debian:01:split-test', host: 'compute-1', ip: '127.0.0.1', platform: 'x86_64', os_type: 'linux2' };

describe('split services: one volume service, two API services', { skip, concurrency: false }, () => {
  let database: TestDatabase;
  // Queue names are per storage host: a name of its own keeps concurrent runs on one broker apart.
  const storageHost = `store-${randomBytes(4).toString('hex')}`;
  let rpcUrl = RABBITMQ_URL;
  const common = (databaseUrl = database.url) => ['--database', databaseUrl, '--rpc', rpcUrl];

  before(async () => {
    database = await createTestDatabase('postgres');
  });
  after(async () => {
    await database.cleanup();
  });

  async function startVolume(
    t: TestContext,
    dataDir: string,
    iscsiPort: number,
    extra: string[] = [],
    opts: { host?: string; databaseUrl?: string; env?: Record<string, string> } = {},
  ): Promise<ServeProcess> {
    const args = [...common(opts.databaseUrl), '--host', opts.host ?? storageHost, '--data-dir', dataDir, '--iscsi-listen', `127.0.0.1:${iscsiPort}`, ...extra];
    return spawnServe(t, args, opts.env ?? {}, { command: 'volume' });
  }

  async function startApi(t: TestContext, env: Record<string, string> = {}, databaseUrl = database.url): Promise<Api> {
    const port = await freePort();
    // The tests share one project on one database, so together they make more volumes than Cinder's default quota.
    const service = await spawnServe(t, [...common(databaseUrl), '--api-listen', `127.0.0.1:${port}`], { ...UNLIMITED_QUOTA_ENV, ...env }, { command: 'api' });
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`http://127.0.0.1:${port}/v3/${PROJECT}/${path}`, {
        method,
        headers: {
          'X-Auth-Token': `admin:${PROJECT}`,
          'X-Service-Token': 'nova',
          'Content-Type': 'application/json',
          'OpenStack-API-Version': 'volume 3.54',
        },
        body: body === undefined ? undefined : Buffer.from(JSON.stringify(body)),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null, text };
    };
    return { service, port, call };
  }

  async function createVolume(api: Api, size = 1): Promise<string> {
    const created = await api.call('POST', 'volumes', { volume: { size } });
    assert.equal(created.status, 202, created.text);
    const id = created.body.volume.id as string;
    const deadline = Date.now() + 15_000;
    for (;;) {
      const { body } = await api.call('GET', `volumes/${id}`);
      if (body.volume.status === 'available') return id;
      assert.notEqual(body.volume.status, 'error', 'the volume service created the volume');
      assert.ok(Date.now() < deadline, `volume ${id} stayed ${body.volume.status}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** A create no storage host can take: accepted, then in error with no host, as Cinder's "No valid backend". */
  async function createUnplaced(api: Api, size: number): Promise<any> {
    const created = await api.call('POST', 'volumes', { volume: { size } });
    assert.equal(created.status, 202, created.text);
    let volume = created.body.volume;
    for (let i = 0; i < 100 && volume.status === 'creating'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      volume = (await api.call('GET', `volumes/${volume.id}`)).body.volume;
    }
    assert.equal(volume.status, 'error');
    assert.equal(volume['os-vol-host-attr:host'], null);
    return volume;
  }

  const action = (api: Api, id: string, body: unknown) => api.call('POST', `volumes/${id}/action`, body);

  test('the whole workflow through both API services; the returned connection logs in', async (t) => {
    const inq = requireTool(t, 'iscsi-inq');
    if (!inq) return;
    const dataDir = await scratchDir(t, 'cinderblock-split-');
    const metricsPort = await freePort();
    const volume = await startVolume(t, dataDir, await freePort(), ['--metrics-listen', `127.0.0.1:${metricsPort}`]);
    const [a, b] = [await startApi(t), await startApi(t)];

    const id = await createVolume(a);
    const services = await b.call('GET', 'os-services?binary=cinder-volume');
    assert.deepEqual(
      services.body.services.map((x: any) => [x.binary, x.host, x.state]),
      [['cinder-volume', `${storageHost}@file`, 'up']],
      'the storage host reports in, for every API service to see',
    );
    const shown = await b.call('GET', `volumes/${id}`);
    assert.equal(shown.body.volume['os-vol-host-attr:host'], `${storageHost}@file#file`);

    // The legacy six calls, alternating between the two API services.
    assert.equal((await action(a, id, { 'os-reserve': {} })).status, 202);
    // A refusal by the storage host crosses RabbitMQ with its code: the same 400 as in one process.
    const { initiator: _, ...withoutInitiator } = CONNECTOR;
    const invalid = await action(a, id, { 'os-initialize_connection': { connector: withoutInitiator } });
    assert.equal(invalid.status, 400, invalid.text);
    assert.equal(invalid.body.badRequest.message, "Invalid input received: Connector doesn't have required information: initiator");
    const init = await action(b, id, { 'os-initialize_connection': { connector: CONNECTOR } });
    assert.equal(init.status, 200, init.text);
    const data = init.body.connection_info.data;
    const url = `iscsi://${data.auth_username}%${data.auth_password}@${data.target_portal}/${data.target_iqn}/${data.target_lun}`;
    const login = await run(inq, ['-i', CONNECTOR.initiator, url]);
    assert.equal(login.code, 0, `login with the connection info the API returned\n${login.stdout}${login.stderr}`);
    assert.match(login.stdout, /Peripheral Device Type:DIRECT_ACCESS/);

    const instance = randomUUID();
    assert.equal((await action(a, id, { 'os-attach': { instance_uuid: instance, mountpoint: '/dev/vdb', mode: 'rw' } })).status, 202);
    assert.equal((await b.call('GET', `volumes/${id}`)).body.volume.status, 'in-use');
    assert.equal((await action(b, id, { 'os-begin_detaching': {} })).status, 202);
    assert.equal((await action(a, id, { 'os-terminate_connection': { connector: CONNECTOR } })).status, 202);
    const refused = await run(inq, ['-i', CONNECTOR.initiator, url]);
    assert.notEqual(refused.code, 0, 'the initiator lost its access at terminate_connection');
    assert.equal((await action(b, id, { 'os-detach': {} })).status, 202);
    assert.equal((await a.call('GET', `volumes/${id}`)).body.volume.status, 'available');

    // The attachments API: create with a connector on one, complete and delete on the other.
    const created = await a.call('POST', 'attachments', { attachment: { volume_uuid: id, instance_uuid: instance, connector: CONNECTOR, mode: 'rw' } });
    assert.equal(created.status, 200, created.text);
    const attachment = created.body.attachment;
    assert.equal(attachment.connection_info.target_iqn, data.target_iqn);
    assert.equal((await b.call('POST', `attachments/${attachment.id}/action`, { 'os-complete': {} })).status, 204);
    assert.equal((await a.call('GET', `volumes/${id}`)).body.volume.status, 'in-use');
    const removed = await b.call('DELETE', `attachments/${attachment.id}`);
    assert.equal(removed.status, 200, removed.text);
    assert.equal((await a.call('GET', `volumes/${id}`)).body.volume.status, 'available');

    // The storage host's metrics: its steps as it ran them, and its target's logins.
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    for (const [series, value] of [
      ['cinderblock_volume_rpc_calls_total{call="initializeConnection",outcome="ok"}', 2],
      ['cinderblock_volume_rpc_calls_total{call="initializeConnection",outcome="error"}', 1],
      ['cinderblock_volume_rpc_calls_total{call="terminateConnection",outcome="ok"}', 1],
      ['cinderblock_iscsi_logins_total{outcome="ok"}', 1],
      ['cinderblock_iscsi_logins_total{outcome="refused"}', 1],
    ] as const) {
      assert.ok(metrics.split('\n').includes(`${series} ${value}`), `${series} ${value} in\n${metrics.split('\n').filter((l) => l.startsWith('cinderblock_')).join('\n')}`);
    }

    // CHAP passwords travel between the services, never into their logs.
    for (const service of [volume, a.service, b.service]) {
      const { stdout, stderr } = service.output();
      assert.ok(!(stdout + stderr).includes(data.auth_password), 'no CHAP password in any log');
    }
    assert.equal((await a.call('DELETE', `volumes/${id}`)).status, 202);
  });

  test('concurrent requests through both API services: one reserve wins, one attachment per instance', async (t) => {
    const dataDir = await scratchDir(t, 'cinderblock-split-');
    await startVolume(t, dataDir, await freePort());
    const [a, b] = [await startApi(t), await startApi(t)];

    const single = await createVolume(a);
    const reserves = await Promise.all(Array.from({ length: 100 }, (_, i) => action(i % 2 ? a : b, single, { 'os-reserve': {} })));
    assert.equal(reserves.filter((r) => r.status === 202).length, 1, 'exactly one of 100 reserves wins');
    for (const loser of reserves.filter((r) => r.status !== 202)) {
      assert.equal(loser.status, 400);
      assert.match(loser.body.badRequest.message, /status must be available/);
    }

    // A repeated os-attach of one instance finds its attachment, whichever API service
    // takes it: the services take turns on the volume's lock in the database. Each volume
    // gets its two at the same moment, one through each service. A service's first
    // requests are slow (connections opened, code compiled), so the first round mostly
    // warms both up; without the shared lock the later rounds leave two attachments on
    // nearly every volume.
    for (let round = 0; round < 3; round++) {
      const volumes = await Promise.all(Array.from({ length: 8 }, (_, i) => createVolume(i % 2 ? a : b)));
      for (const [i, id] of volumes.entries()) assert.equal((await action(i % 2 ? a : b, id, { 'os-reserve': {} })).status, 202);
      const attaches = await Promise.all(
        volumes.flatMap((id) => {
          const attach = { 'os-attach': { instance_uuid: `${id.slice(0, 24)}${'0'.repeat(12)}`, mountpoint: '/dev/vdc', mode: 'rw' } };
          return [action(a, id, attach), action(b, id, attach)];
        }),
      );
      assert.deepEqual(
        attaches.map((r) => r.status),
        attaches.map(() => 202),
        attaches.map((r) => r.text).join('\n'),
      );
      for (const id of volumes) {
        const { body } = await b.call('GET', `volumes/${id}`);
        assert.equal(body.volume.status, 'in-use');
        assert.equal(body.volume.attachments.length, 1, `round ${round}: one attachment for one instance: ${JSON.stringify(body.volume.attachments)}`);
      }
    }
  });

  test('without its volume service the API fails fast and leaves the volume actionable; a new one takes over', async (t) => {
    const dataDir = await scratchDir(t, 'cinderblock-split-');
    const iscsiPort = await freePort();
    const volume = await startVolume(t, dataDir, iscsiPort);
    const api = await startApi(t);
    const id = await createVolume(api);

    assert.equal((await volume.stop()).code, 0, 'the volume service stops cleanly on SIGTERM');
    assert.equal((await action(api, id, { 'os-reserve': {} })).status, 202);
    const started = Date.now();
    const init = await action(api, id, { 'os-initialize_connection': { connector: CONNECTOR } });
    assert.equal(init.status, 500);
    assert.deepEqual(init.body, { computeFault: { code: 500, message: 'Unable to fetch connection information from backend.' } });
    assert.ok(Date.now() - started < 5000, `answered in ${Date.now() - started} ms, not after an RPC timeout`);
    await assertLogs(api.service, /no volume service for host store-[0-9a-f]+@file#file is running/);

    const orphan = await api.call('POST', 'volumes', { volume: { size: 1 } });
    assert.equal(orphan.status, 202);
    let status = 'creating';
    for (let i = 0; i < 100 && status === 'creating'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      status = (await api.call('GET', `volumes/${orphan.body.volume.id}`)).body.volume.status;
    }
    assert.equal(status, 'error', 'a create nobody can carry out ends in error, not creating forever');

    // The user's way out of the half-made attach, and the storage host back: it works again.
    assert.equal((await action(api, id, { 'os-unreserve': {} })).status, 202);
    await startVolume(t, dataDir, iscsiPort);
    assert.equal((await action(api, id, { 'os-reserve': {} })).status, 202);
    const again = await action(api, id, { 'os-initialize_connection': { connector: CONNECTOR } });
    assert.equal(again.status, 200, again.text);
  });

  test('two storage hosts behind an API service: new volumes go to the live ones, each served by its own', async (t) => {
    const inq = requireTool(t, 'iscsi-inq');
    if (!inq) return;
    // A database of its own: the storage hosts of the other tests must not be candidates here.
    const own = await createTestDatabase('postgres');
    t.after(() => own.cleanup());
    const hosts = [`store-${randomBytes(4).toString('hex')}`, `store-${randomBytes(4).toString('hex')}`];
    const ports = [await freePort(), await freePort()];
    const storage: ServeProcess[] = [];
    for (const [i, host] of hosts.entries()) {
      const dataDir = await scratchDir(t, 'cinderblock-split-');
      storage.push(await startVolume(t, dataDir, ports[i]!, [], { host, databaseUrl: own.url, env: { CINDERBLOCK_REPORT_INTERVAL: '0.2' } }));
    }
    const api = await startApi(t, { CINDERBLOCK_SERVICE_DOWN_TIME: '1.5' }, own.url);

    // On one filesystem, each new volume goes to the host that has promised the fewest gigabytes so far.
    const placed = new Map<string, string>();
    for (let i = 0; i < 4; i++) {
      const id = await createVolume(api);
      placed.set(id, (await api.call('GET', `volumes/${id}`)).body.volume['os-vol-host-attr:host']);
    }
    const onHost = (i: number) => [...placed].filter(([, host]) => host === `${hosts[i]}@file#file`).map(([id]) => id);
    assert.deepEqual([onHost(0).length, onHost(1).length], [2, 2], JSON.stringify([...placed]));

    // A volume's steps go to its own storage host, whose portal the connection info names.
    for (const i of [0, 1]) {
      const id = onHost(i)[0]!;
      assert.equal((await action(api, id, { 'os-reserve': {} })).status, 202);
      const init = await action(api, id, { 'os-initialize_connection': { connector: CONNECTOR } });
      assert.equal(init.status, 200, init.text);
      const data = init.body.connection_info.data;
      assert.equal(data.target_portal, `127.0.0.1:${ports[i]}`);
      const login = await run(inq, ['-i', CONNECTOR.initiator, `iscsi://${data.auth_username}%${data.auth_password}@${data.target_portal}/${data.target_iqn}/${data.target_lun}`]);
      assert.equal(login.code, 0, login.stdout + login.stderr);
    }

    // A disabled host gets no new volumes, though it has the fewest gigabytes; enabled, it does again.
    const disable = await api.call('PUT', 'os-services/disable', { host: `${hosts[1]}@file`, binary: 'cinder-volume' });
    assert.equal(disable.status, 200, disable.text);
    for (let i = 0; i < 2; i++) {
      const id = await createVolume(api);
      assert.equal((await api.call('GET', `volumes/${id}`)).body.volume['os-vol-host-attr:host'], `${hosts[0]}@file#file`);
    }
    assert.equal((await api.call('PUT', 'os-services/enable', { host: `${hosts[1]}@file`, binary: 'cinder-volume' })).status, 200);
    const next = await createVolume(api);
    assert.equal((await api.call('GET', `volumes/${next}`)).body.volume['os-vol-host-attr:host'], `${hosts[1]}@file#file`);

    // The second host goes away: once its heartbeat is stale, new volumes all go to the first.
    await storage[1]!.stop();
    const deadline = Date.now() + 10_000;
    let states: Record<string, string> = {};
    do {
      await new Promise((resolve) => setTimeout(resolve, 200));
      states = Object.fromEntries((await api.call('GET', 'os-services?binary=cinder-volume')).body.services.map((x: any) => [x.host, x.state]));
    } while (states[`${hosts[1]}@file`] !== 'down' && Date.now() < deadline);
    assert.deepEqual(states, { [`${hosts[0]}@file`]: 'up', [`${hosts[1]}@file`]: 'down' });
    for (let i = 0; i < 2; i++) {
      const id = await createVolume(api);
      assert.equal((await api.call('GET', `volumes/${id}`)).body.volume['os-vol-host-attr:host'], `${hosts[0]}@file#file`);
    }

    // No storage host left: a create is accepted and ends in error, with no host, as Cinder's does.
    await storage[0]!.stop();
    await new Promise((resolve) => setTimeout(resolve, 1600));
    await createUnplaced(api, 1);
    await assertLogs(api.service, /no storage host can hold volume \S+ of 1 GiB: no storage host is up in the zone/);
  });

  test("log levels: set-log and get-log reach the storage host's own loggers over RabbitMQ", async (t) => {
    // A database of its own: the stopped storage hosts of other tests still look up for a while.
    const own = await createTestDatabase('postgres');
    t.after(() => own.cleanup());
    const host = `store-${randomBytes(4).toString('hex')}`;
    await startVolume(t, await scratchDir(t, 'cinderblock-split-'), await freePort(), [], { host, databaseUrl: own.url });
    const api = await startApi(t, {}, own.url);
    const levelsOf = async (body: object) => {
      const res = await api.call('PUT', 'os-services/get-log', body);
      assert.equal(res.status, 200, res.text);
      return res.body.log_levels;
    };

    const set = await api.call('PUT', 'os-services/set-log', { binary: 'cinder-volume', server: host, prefix: 'manager', level: 'warning' });
    assert.equal(set.status, 202, set.text);
    assert.deepEqual(await levelsOf({ binary: 'cinder-volume', prefix: 'manager' }), [{ binary: 'cinder-volume', host: `${host}@file`, levels: { manager: 'WARNING' } }]);
    // The API process has no manager logger of its own: what changed is the volume service's.
    assert.deepEqual((await levelsOf({ binary: 'cinder-api', prefix: 'manager' }))[0].levels, {});
    const volumeLevels = (await levelsOf({ binary: 'cinder-volume' }))[0].levels;
    assert.equal(volumeLevels.rpc, 'INFO', JSON.stringify(volumeLevels));
    assert.equal(volumeLevels.api, undefined, 'the volume service serves no API');
  });

  test('two storage hosts of different room: capacity filters and weighs, and a volume neither holds is explained', async (t) => {
    const own = await createTestDatabase('postgres');
    t.after(() => own.cleanup());
    // Named so that the roomier host sorts last: a scheduler blind to capacity picks the other.
    const suffix = randomBytes(4).toString('hex');
    const [tight, roomy] = [`a-store-${suffix}`, `b-store-${suffix}`];
    // Ratio 1: what a host may promise is its filesystem less the reserve, so sizes stay real files.
    for (const [host, reserve] of [[tight, '60'], [roomy, '10']] as const) {
      const args = ['--reserved-percentage', reserve, '--max-over-subscription-ratio', '1'];
      await startVolume(t, await scratchDir(t, 'cinderblock-split-'), await freePort(), args, { host, databaseUrl: own.url, env: { CINDERBLOCK_REPORT_INTERVAL: '0.2' } });
    }
    const api = await startApi(t, {}, own.url);
    const pools = await api.call('GET', 'scheduler-stats/get_pools?detail=true');
    assert.equal(pools.status, 200, pools.text);
    assert.deepEqual(
      pools.body.pools.map((p: any) => [p.name, p.capabilities.reserved_percentage, p.capabilities.max_over_subscription_ratio]),
      [[`${tight}@file#file`, 60, 1], [`${roomy}@file#file`, 10, 1]],
    );
    const total = pools.body.pools[0].capabilities.total_capacity_gb as number;
    const hostOf = async (id: string) => (await api.call('GET', `volumes/${id}`)).body.volume['os-vol-host-attr:host'];

    // About 65% of the filesystem: more than the tight host may take (40%), less than the roomy one (90%).
    const big = await createVolume(api, Math.round(total * 0.65));
    assert.equal(await hostOf(big), `${roomy}@file#file`);
    // Now the roomy host has about 25% left and the tight one 40%: the most free capacity wins.
    assert.equal(await hostOf(await createVolume(api)), `${tight}@file#file`);

    const volume = await createUnplaced(api, 100_000_000);
    const messages = await fetch(`http://127.0.0.1:${api.port}/v3/${PROJECT}/messages?resource_uuid=${volume.id}`, {
      headers: { 'X-Auth-Token': `admin:${PROJECT}`, 'OpenStack-API-Version': 'volume 3.5' },
    });
    const listed = (await messages.json()) as { messages: Array<{ event_id: string; user_message: string }> };
    assert.deepEqual(listed.messages.map((m) => [m.event_id, m.user_message]), [
      ['VOLUME_VOLUME_001_003', 'schedule allocate volume:Could not find any available weighted backend.'],
    ]);
    // The log says what each host reported, which the message does not.
    for (const host of [tight, roomy]) {
      await assertLogs(api.service, new RegExp(`${host}@file#file: provisioned capacity would be \\d+ GiB, [0-9.]+ times the [0-9.]+ GiB available \\(maximum 1\\)`));
    }
    await assertLogs(api.service, /"hosts":\[\{"host":"a-store-[0-9a-f]+@file#file","reason":"[^"]+","total_capacity_gb":[0-9.]+,"free_capacity_gb":[0-9.]+,"provisioned_capacity_gb":/);
  });

  test('a volume service that takes a call and never answers: the call fails after rpc_timeout', async (t) => {
    const dataDir = await scratchDir(t, 'cinderblock-split-');
    const volume = await startVolume(t, dataDir, await freePort());
    const api = await startApi(t, { CINDERBLOCK_RPC_TIMEOUT: '1' });
    const id = await createVolume(api);
    await volume.stop();

    // A stand-in for a hung volume service: it takes the host's queue and answers nothing.
    const connection = await amqp.connect(RABBITMQ_URL);
    t.after(() => connection.close().catch(() => undefined));
    const channel = await connection.createChannel();
    const queue = `cinderblock-volume.${storageHost}@file#file`;
    await channel.assertQueue(queue, { exclusive: true, durable: false, autoDelete: true });
    const taken: string[] = [];
    await channel.consume(queue, (message) => {
      if (message) taken.push(JSON.parse(message.content.toString()).method);
    });

    assert.equal((await action(api, id, { 'os-reserve': {} })).status, 202);
    const started = Date.now();
    const init = await action(api, id, { 'os-initialize_connection': { connector: CONNECTOR } });
    const waited = Date.now() - started;
    assert.equal(init.status, 500, init.text);
    assert.deepEqual(init.body, { computeFault: { code: 500, message: 'Unable to fetch connection information from backend.' } });
    assert.ok(waited >= 900 && waited < 10_000, `failed after the 1 s timeout, not ${waited} ms`);
    assert.deepEqual(taken, ['initializeConnection']);
    await assertLogs(api.service, /did not answer initializeConnection within 1 s/);
    // Still the user's to act on.
    assert.equal((await action(api, id, { 'os-unreserve': {} })).status, 202);
    assert.equal((await api.call('GET', `volumes/${id}`)).body.volume.status, 'available');
  });

  test('RabbitMQ going away and coming back: calls fail fast meanwhile, both sides reconnect on their own', async (t) => {
    const relay = await brokerRelay(t);
    rpcUrl = relay.url;
    t.after(() => (rpcUrl = RABBITMQ_URL));
    const dataDir = await scratchDir(t, 'cinderblock-split-');
    const volume = await startVolume(t, dataDir, await freePort());
    const api = await startApi(t);
    const id = await createVolume(api);

    relay.cut();
    assert.equal((await action(api, id, { 'os-reserve': {} })).status, 202, 'steps that need only the database go on');
    const started = Date.now();
    const init = await action(api, id, { 'os-initialize_connection': { connector: CONNECTOR } });
    assert.equal(init.status, 500, init.text);
    assert.ok(Date.now() - started < 5000, `failed in ${Date.now() - started} ms, without waiting for a timeout`);
    await assertLogs(api.service, /message bus connection lost/);
    await assertLogs(volume, /message bus connection lost; reconnecting/);

    relay.restore();
    // Recovery retries with backoff (at most 5 s apart); the first call after it works.
    const deadline = Date.now() + 20_000;
    let again = await action(api, id, { 'os-initialize_connection': { connector: CONNECTOR } });
    while (again.status !== 200 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      again = await action(api, id, { 'os-initialize_connection': { connector: CONNECTOR } });
    }
    assert.equal(again.status, 200, again.text);
    assert.equal((await action(api, id, { 'os-attach': { instance_uuid: randomUUID(), mountpoint: '/dev/vdb', mode: 'rw' } })).status, 202);
    assert.equal((await api.call('GET', `volumes/${id}`)).body.volume.status, 'in-use');
  });

  test('misconfiguration is refused at start, naming the setting', async (t) => {
    const dataDir = await scratchDir(t, 'cinderblock-split-');
    const port = String(await freePort());
    const sqlite = await run(process.execPath, [CLI_PATH, 'api', '--rpc', RABBITMQ_URL, '--api-listen', `127.0.0.1:${port}`, '--database', `${dataDir}/db.sqlite`]);
    assert.equal(sqlite.code, 1);
    assert.match(sqlite.stderr, /set database \(--database\) to a postgres:\/\/ URL/);
    const noRpc = await run(process.execPath, [CLI_PATH, 'volume', '--database', database.url, '--data-dir', dataDir]);
    assert.equal(noRpc.code, 1);
    assert.match(noRpc.stderr, /set rpc \(--rpc\) to an amqp:\/\/ URL/);
    const badBroker = await run(process.execPath, [CLI_PATH, 'api', '--database', database.url, '--rpc', `amqp://guest:hunter2@127.0.0.1:${port}`, '--api-listen', `127.0.0.1:${port}`]);
    assert.equal(badBroker.code, 1);
    assert.match(badBroker.stderr, /cannot reach the message bus at amqp:\/\/guest:\*\*\*@127\.0\.0\.1/);
    assert.ok(!badBroker.stderr.includes('hunter2'), 'the broker password is masked');
    const badTimeout = await run(process.execPath, [CLI_PATH, 'api', ...common(), '--api-listen', `127.0.0.1:${port}`], {
      env: { ...process.env, CINDERBLOCK_RPC_TIMEOUT: 'soon' },
    });
    assert.equal(badTimeout.code, 1);
    assert.match(badTimeout.stderr, /setting rpc_timeout: expected a positive number, got "soon"/);

    // One volume service per storage host: a second one would rebuild the same exports.
    await startVolume(t, dataDir, await freePort());
    const otherDir = await scratchDir(t, 'cinderblock-split-');
    const second = await run(process.execPath, [CLI_PATH, 'volume', ...common(), '--host', storageHost, '--data-dir', otherDir, '--iscsi-listen', `127.0.0.1:${await freePort()}`]);
    assert.equal(second.code, 1, describeOutput(second));
    assert.match(second.stderr, new RegExp(`another volume service already serves host ${storageHost}@file#file`));
  });
});
