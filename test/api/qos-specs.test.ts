import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { assertTempestSchema, requireTempestSchemas } from '../helpers/tempest-schema.js';
import type { Response, TestService } from '../helpers/service.js';
import { action, assertEmpty, assertFault, CONNECTOR, createVolume, forEachDatabase, SERVER_ID, serviceOn } from './support.js';

const MISSING = '0a6e6e54-3cd4-4d5b-95c1-d3cd63a6c9f2';

async function createQos(s: TestService, body: Record<string, unknown>) {
  const res = await s.request('POST', 'qos-specs', { body: { qos_specs: body } });
  assert.equal(res.status, 200, res.text);
  return res;
}

async function createType(s: TestService, name: string) {
  return (await s.request('POST', 'types', { body: { volume_type: { name } } })).body.volume_type;
}

function assertWebobEmpty(res: Response, status: number) {
  assertEmpty(res, status);
  assert.equal(res.headers.get('content-type'), 'text/html; charset=UTF-8');
}

async function policyFile(t: TestContext, lines: string[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'cinderblock-qos-policy-'));
  const path = join(dir, 'policy.yaml');
  await writeFile(path, `${lines.join('\n')}\n`);
  return path;
}

forEachDatabase('QoS specs API', (db) => {
  test('create, show, list, delete, with the consumer defaulting to back-end', async (t) => {
    if (!requireTempestSchemas(t)) return;
    const s = await serviceOn(t, db().name);
    // cinder qos-create gold consumer=front-end read_iops_sec=2000
    const created = await createQos(s, { name: ' gold ', consumer: 'front-end', read_iops_sec: '2000' });
    await assertTempestSchema(created, 'qos.show_qos');
    const qos = created.body.qos_specs;
    assert.deepEqual(qos, { id: qos.id, name: 'gold', consumer: 'front-end', specs: { read_iops_sec: '2000' } });
    assert.deepEqual(
      created.body.links.map((l: any) => l.rel),
      ['self', 'bookmark'],
    );
    assert.match(created.body.links[0].href, new RegExp(`/v3/.*qos-specs/${qos.id}$`));

    const shown = await s.request('GET', `qos-specs/${qos.id}`);
    await assertTempestSchema(shown, 'qos.show_qos');
    assert.deepEqual(shown.body.qos_specs, qos);

    const plain = (await createQos(s, { name: 'plain' })).body.qos_specs;
    assert.equal(plain.consumer, 'back-end');
    assert.deepEqual(plain.specs, {});

    const list = await s.request('GET', 'qos-specs');
    await assertTempestSchema(list, 'qos.list_qos');
    // Newest first, as Cinder sorts them.
    assert.deepEqual(list.body, { qos_specs: [plain, qos] });
    assert.deepEqual((await s.request('GET', `qos-specs?id=${qos.id}`)).body.qos_specs, [qos]);
    // Cinder matches filters against its key/value rows: name is not one of their columns.
    assert.deepEqual((await s.request('GET', 'qos-specs?name=gold')).body.qos_specs, []);
    const paged = await s.request('GET', 'qos-specs?limit=1');
    assert.deepEqual(paged.body.qos_specs, [plain]);
    assert.match(paged.body.qos_specs_links[0].href, new RegExp(`qos-specs\\?limit=1&marker=${plain.id}$`));

    const deleted = await s.request('DELETE', `qos-specs/${qos.id}`);
    await assertTempestSchema(deleted, 'qos.delete_qos');
    assertWebobEmpty(deleted, 202);
    assertFault(await s.request('GET', `qos-specs/${qos.id}`), 404, 'itemNotFound', `No such QoS spec ${qos.id}.`);
  });

  test('create refusals in Cinder words', async (t) => {
    const s = await serviceOn(t, db().name);
    await createQos(s, { name: 'gold' });
    assertFault(await s.request('POST', 'qos-specs', { body: { qos_specs: { name: 'gold' } } }), 409, 'conflictingRequest', 'QoS Specs gold already exists.');
    assertFault(
      await s.request('POST', 'qos-specs', { body: { qos_specs: { consumer: 'both' } } }),
      400,
      'badRequest',
      "Invalid input for field/attribute qos_specs. Value: {'consumer': 'both'}. 'name' is a required property",
    );
    assertFault(
      await s.request('POST', 'qos-specs', { body: { qos_specs: { name: '   ' } } }),
      400,
      'badRequest',
      "An invalid 'name' value was provided. The 'name' can not be empty.",
    );
    assertFault(
      await s.request('POST', 'qos-specs', { body: { qos_specs: { name: 'x', consumer: 'host' } } }),
      400,
      'badRequest',
      /^Invalid qos specs: Valid consumer of QoS specs are: QoSConsumerValues\(.*valid_values=\('back-end', 'front-end', 'both'\)\)$/,
    );
    assertFault(
      await s.request('POST', 'qos-specs', { body: { qos_specs: { name: 'x', read_iops_sec: 100 } } }),
      400,
      'badRequest',
      'Invalid input received: Value for key "read_iops_sec" is not a string or unicode',
    );
  });

  test('set keys (and the consumer), unset keys', async (t) => {
    if (!requireTempestSchemas(t)) return;
    const s = await serviceOn(t, db().name);
    const qos = (await createQos(s, { name: 'gold', consumer: 'front-end', read_iops_sec: '2000' })).body.qos_specs;
    const set = await s.request('PUT', `qos-specs/${qos.id}`, { body: { qos_specs: { iops_bytes: '500', consumer: 'both' } } });
    await assertTempestSchema(set, 'qos.set_qos_key');
    assert.deepEqual(set.body, { qos_specs: { iops_bytes: '500', consumer: 'both' } });
    const shown = (await s.request('GET', `qos-specs/${qos.id}`)).body.qos_specs;
    assert.equal(shown.consumer, 'both');
    assert.deepEqual(shown.specs, { iops_bytes: '500', read_iops_sec: '2000' });

    const unset = await s.request('PUT', `qos-specs/${qos.id}/delete_keys`, { body: { keys: ['iops_bytes'] } });
    await assertTempestSchema(unset, 'qos.unset_qos_key');
    assertWebobEmpty(unset, 202);
    assert.deepEqual((await s.request('GET', `qos-specs/${qos.id}`)).body.qos_specs.specs, { read_iops_sec: '2000' });

    // Keys before the missing one go, as in Cinder.
    assertFault(
      await s.request('PUT', `qos-specs/${qos.id}/delete_keys`, { body: { keys: ['read_iops_sec', 'nope'] } }),
      404,
      'itemNotFound',
      `QoS spec ${qos.id} has no spec with key nope.`,
    );
    assert.deepEqual((await s.request('GET', `qos-specs/${qos.id}`)).body.qos_specs.specs, {});

    assertFault(
      await s.request('PUT', `qos-specs/${qos.id}`, { body: { qos_specs: { consumer: 'nobody' } } }),
      400,
      'badRequest',
      /^Invalid qos specs: Valid consumer/,
    );
    assertFault(await s.request('PUT', `qos-specs/${MISSING}`, { body: { qos_specs: { a: 'b' } } }), 404, 'itemNotFound', `No such QoS spec ${MISSING}.`);
    assertFault(
      await s.request('PUT', `qos-specs/${qos.id}/delete_keys`, { body: { keys: 'a' } }),
      400,
      'badRequest',
      "Invalid input for field/attribute keys. Value: a. 'a' is not of type 'array'",
    );
  });

  test('associate, associations, the type view, disassociate, disassociate_all, delete in use', async (t) => {
    if (!requireTempestSchemas(t)) return;
    const s = await serviceOn(t, db().name);
    const qos = (await createQos(s, { name: 'gold' })).body.qos_specs;
    const other = (await createQos(s, { name: 'silver' })).body.qos_specs;
    const [a, b] = [await createType(s, 'a'), await createType(s, 'b')];

    const associated = await s.request('GET', `qos-specs/${qos.id}/associate?vol_type_id=${a.id}`);
    await assertTempestSchema(associated, 'qos.associate_qos');
    assertWebobEmpty(associated, 202);
    // Again with the same specs: nothing changes.
    assertWebobEmpty(await s.request('GET', `qos-specs/${qos.id}/associate?vol_type_id=${a.id}`), 202);
    assertWebobEmpty(await s.request('GET', `qos-specs/${qos.id}/associate?vol_type_id=${b.id}`), 202);
    assertFault(
      await s.request('GET', `qos-specs/${other.id}/associate?vol_type_id=${a.id}`),
      400,
      'badRequest',
      `Invalid volume type: Type ${a.id} is already associated with another qos specs: ${qos.id}`,
    );
    assertFault(await s.request('GET', `qos-specs/${qos.id}/associate`), 400, 'badRequest', 'Volume Type id must not be None.');
    assertFault(await s.request('GET', `qos-specs/${qos.id}/associate?vol_type_id=${MISSING}`), 404, 'itemNotFound', `Volume type ${MISSING} could not be found.`);
    assertFault(await s.request('GET', `qos-specs/${MISSING}/associate?vol_type_id=${a.id}`), 404, 'itemNotFound', `No such QoS spec ${MISSING}.`);

    const associations = await s.request('GET', `qos-specs/${qos.id}/associations`);
    await assertTempestSchema(associations, 'qos.show_association_qos');
    assert.deepEqual(associations.body, {
      qos_associations: [
        { association_type: 'volume_type', name: 'a', id: a.id },
        { association_type: 'volume_type', name: 'b', id: b.id },
      ],
    });

    const typeShown = await s.request('GET', `types/${a.id}`);
    await assertTempestSchema(typeShown, 'volume_types.show_volume_type');
    assert.equal(typeShown.body.volume_type.qos_specs_id, qos.id);

    assertFault(await s.request('DELETE', `qos-specs/${qos.id}`), 400, 'badRequest', 'Qos specs still in use.');
    assertFault(await s.request('DELETE', `qos-specs/${qos.id}?force=maybe`), 400, 'badRequest', "Value 'maybe' for 'force' is not a boolean value.");

    const disassociated = await s.request('GET', `qos-specs/${qos.id}/disassociate?vol_type_id=${a.id}`);
    await assertTempestSchema(disassociated, 'qos.disassociate_qos');
    assertWebobEmpty(disassociated, 202);
    assert.equal((await s.request('GET', `types/${a.id}`)).body.volume_type.qos_specs_id, null);
    assertFault(await s.request('GET', `qos-specs/${qos.id}/disassociate`), 400, 'badRequest', 'Volume Type id must not be None.');

    assertWebobEmpty(await s.request('GET', `qos-specs/${qos.id}/associate?vol_type_id=${a.id}`), 202);
    const all = await s.request('GET', `qos-specs/${qos.id}/disassociate_all`);
    await assertTempestSchema(all, 'qos.disassociate_all_qos');
    assertWebobEmpty(all, 202);
    assert.deepEqual((await s.request('GET', `qos-specs/${qos.id}/associations`)).body, { qos_associations: [] });

    // force takes the specs from the types that still use them.
    assertWebobEmpty(await s.request('GET', `qos-specs/${qos.id}/associate?vol_type_id=${b.id}`), 202);
    assertWebobEmpty(await s.request('DELETE', `qos-specs/${qos.id}?force=True`), 202);
    assert.equal((await s.request('GET', `types/${b.id}`)).body.volume_type.qos_specs_id, null);
  });

  test("connection_info carries a front-end type's specs with per-GB limits resolved; back-end ones stay on the storage side", async (t) => {
    const s = await serviceOn(t, db().name);
    const type = await createType(s, 'metered');
    const qos = (
      await createQos(s, {
        name: 'metered',
        consumer: 'both',
        total_iops_sec_per_gb: '30',
        total_iops_sec_per_gb_min: '100',
        read_bytes_sec_per_gb: '1048576',
        read_bytes_sec_max: '2097152',
        write_iops_sec: '200',
      })
    ).body.qos_specs;
    assertWebobEmpty(await s.request('GET', `qos-specs/${qos.id}/associate?vol_type_id=${type.id}`), 202);
    const v = await createVolume(s, { size: 3, volume_type: type.id });
    const init = await action(s, v.id, { 'os-initialize_connection': { connector: CONNECTOR } });
    assert.equal(init.status, 200, init.text);
    // 30 * 3 = 90 is under the minimum; 1 MiB * 3 is over the maximum.
    assert.deepEqual(init.body.connection_info.data.qos_specs, { total_iops_sec: 100, read_bytes_sec: 2097152, write_iops_sec: '200' });

    // Back-end specs are the target's business: the host gets none, as Cinder's manager decides.
    const set = await s.request('PUT', `qos-specs/${qos.id}`, { body: { qos_specs: { consumer: 'back-end' } } });
    assert.equal(set.status, 200, set.text);
    const created = await s.request('POST', 'attachments', {
      body: { attachment: { volume_uuid: v.id, connector: CONNECTOR, instance_uuid: SERVER_ID } },
      version: '3.44',
    });
    assert.equal(created.status, 200, created.text);
    assert.equal(created.body.attachment.connection_info.qos_specs, null);
  });

  test('the rules guard every route, and the type view shows the association only with its rule', async (t) => {
    const rules = ['get_all', 'get', 'create', 'update', 'delete'].map((r) => `"volume_extension:qos_specs_manage:${r}": "!"`);
    const s = await serviceOn(t, db().name, {
      policyFile: await policyFile(t, [...rules, '"volume_extension:access_types_qos_specs_id": "!"']),
    });
    const refused = (rule: string) => `Policy doesn't allow volume_extension:qos_specs_manage:${rule} to be performed.`;
    assertFault(await s.request('POST', 'qos-specs', { body: { qos_specs: { name: 'x' } } }), 403, 'forbidden', refused('create'));
    assertFault(await s.request('GET', 'qos-specs'), 403, 'forbidden', refused('get_all'));
    assertFault(await s.request('GET', `qos-specs/${MISSING}`), 403, 'forbidden', refused('get'));
    assertFault(await s.request('PUT', `qos-specs/${MISSING}`, { body: { qos_specs: { a: 'b' } } }), 403, 'forbidden', refused('update'));
    assertFault(await s.request('GET', `qos-specs/${MISSING}/associate`), 403, 'forbidden', refused('update'));
    assertFault(await s.request('GET', `qos-specs/${MISSING}/associations`), 403, 'forbidden', refused('get_all'));
    assertFault(await s.request('GET', `qos-specs/${MISSING}/disassociate_all`), 403, 'forbidden', refused('update'));
    assertFault(await s.request('PUT', `qos-specs/${MISSING}/delete_keys`, { body: { keys: ['a'] } }), 403, 'forbidden', refused('delete'));
    assertFault(await s.request('DELETE', `qos-specs/${MISSING}`), 403, 'forbidden', refused('delete'));
    const type = (await s.request('GET', 'types/default')).body.volume_type;
    assert.ok(!('qos_specs_id' in type));
  });
});
