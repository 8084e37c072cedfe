// Private volume types as a project member meets them: invisible (404) until an
// administrator gives the project access, then listed, shown and usable for volumes.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { CinderError } from '../../src/errors.js';
import { forEachDatabase } from '../helpers/databases.js';
import { adminCtx, serviceForSuite, userCtx, waitForStatus } from './harness.js';

async function rejects(p: Promise<unknown>, status: number, message: string | RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof CinderError, String(err));
    assert.equal(err.status, status);
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  });
}

forEachDatabase('private volume types', (db) => {
  const suite = serviceForSuite(db);

  describe('a project without access', () => {
    test('does not see the type, cannot use it, and sees it once given access', async () => {
      const storage = suite.svc.storage;
      const admin = adminCtx();
      const member = userCtx();
      const type = await storage.createVolumeType(admin, { name: `private-${randomUUID()}`, isPublic: false });
      assert.ok(!(await storage.listVolumeTypes(member)).some((x) => x.id === type.id));
      await rejects(storage.getVolumeType(member, type.id), 404, `Volume type ${type.id} could not be found.`);
      await rejects(storage.createVolume(member, { size: 1, volumeType: type.id }), 404, `Volume type ${type.id} could not be found.`);
      await rejects(storage.createVolume(member, { size: 1, volumeType: type.name }), 404, `Volume type with name ${type.name} could not be found.`);
      await rejects(storage.addTypeAccess(member, type.id, member.projectId), 403, /^Policy doesn't allow volume_extension:volume_type_access:addProjectAccess/);

      await storage.addTypeAccess(admin, type.id, member.projectId);
      assert.ok((await storage.listVolumeTypes(member)).some((x) => x.id === type.id));
      // A member's is_public is not an administrator's filter: it still lists what it may use.
      assert.ok((await storage.listVolumeTypes(member, { isPublic: false })).some((x) => x.name === '__DEFAULT__'));
      assert.equal((await storage.getVolumeType(member, type.id)).name, type.name);
      const volume = await storage.createVolume(member, { size: 1, volumeType: type.id });
      assert.equal((await waitForStatus(storage, member, volume.id, 'available')).volumeTypeName, type.name);

      await storage.removeTypeAccess(admin, type.id, member.projectId);
      await rejects(storage.getVolumeType(member, type.id), 404, `Volume type ${type.id} could not be found.`);
      // Another project's access gives this one nothing.
      await storage.addTypeAccess(admin, type.id, userCtx().projectId);
      await rejects(storage.getVolumeType(member, type.id), 404, `Volume type ${type.id} could not be found.`);
    });

    test('a member may retype its own volume, not to a type it is refused multiattach for, and not another project\'s', async () => {
      const storage = suite.svc.storage;
      const admin = adminCtx();
      const member = userCtx();
      const target = await storage.createVolumeType(admin, { name: `target-${randomUUID()}` });
      const volume = await storage.createVolume(member, { size: 1 });
      await waitForStatus(storage, member, volume.id, 'available');
      await rejects(storage.retypeVolume(userCtx(), volume.id, { newType: target.id, migrationPolicy: null }), 404, `Volume ${volume.id} could not be found.`);
      await rejects(storage.retypeVolume(userCtx(member.projectId, { roles: ['reader'] }), volume.id, { newType: target.id, migrationPolicy: null }), 403, "Policy doesn't allow volume:retype to be performed.");
      await storage.retypeVolume(member, volume.id, { newType: target.id, migrationPolicy: 'never' });
      assert.equal((await storage.getVolume(member, volume.id)).volumeTypeId, target.id);
    });

    test('default types are for administrators, refused in Cinder\'s own words', async () => {
      const member = userCtx();
      const refusal = 'You are not authorized to perform this operation.';
      await rejects(suite.svc.storage.setDefaultType(member, member.projectId, '__DEFAULT__'), 403, refusal);
      await rejects(suite.svc.storage.getDefaultType(member, member.projectId), 403, refusal);
      await rejects(suite.svc.storage.listDefaultTypes(member), 403, refusal);
      await rejects(suite.svc.storage.unsetDefaultType(member, member.projectId), 403, refusal);
    });
  });
});
