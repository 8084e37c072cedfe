import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CinderError } from '../../src/errors.js';
import { RULES, transition, type VolumeEvent, type VolumeState } from '../../src/volumes/states.js';
import { VOLUME_STATUSES, type VolumeStatus } from '../../src/volumes/types.js';

const ID = '5b3b6c9e-0f51-4a3c-9d2e-3f4a5b6c7d8e';

function state(status: VolumeStatus, extra: Partial<VolumeState> = {}): VolumeState {
  return {
    id: ID,
    status,
    attachStatus: status === 'in-use' || status === 'detaching' ? 'attached' : 'detached',
    multiattach: false,
    migrationStatus: null,
    previousStatus: null,
    liveAttachments: 0,
    ...extra,
  };
}

function accepted(event: VolumeEvent, s: VolumeState) {
  const outcome = transition(event, s);
  assert.equal(outcome.kind, 'accepted', `${event} from ${s.status} should be accepted`);
  return outcome as Extract<typeof outcome, { kind: 'accepted' }>;
}

function rejection(event: VolumeEvent, s: VolumeState): string {
  const outcome = transition(event, s);
  assert.equal(outcome.kind, 'rejected', `${event} from ${s.status} should be rejected`);
  const error = (outcome as { error: CinderError }).error;
  assert.equal(error.status, 400);
  return error.message;
}

describe('legacy attach/detach transitions', () => {
  test('reserve takes an available volume to attaching and nothing else', () => {
    assert.equal(accepted('reserve', state('available')).status, 'attaching');
    for (const status of VOLUME_STATUSES.filter((s) => s !== 'available')) {
      assert.equal(
        rejection('reserve', state(status)),
        `Invalid volume: Volume status must be available to reserve, but the status is ${status}.`,
      );
    }
  });

  test('a multiattach volume may be reserved while in-use, and the message says so', () => {
    assert.equal(accepted('reserve', state('in-use', { multiattach: true })).status, 'attaching');
    assert.equal(
      rejection('reserve', state('detaching', { multiattach: true })),
      'Invalid volume: Volume status must be available or in-use to reserve, but the status is detaching.',
    );
  });

  test('unreserve returns to in-use while attachments remain, else available, and is silent otherwise', () => {
    assert.equal(accepted('unreserve', state('attaching', { liveAttachments: 1 })).status, 'in-use');
    assert.equal(accepted('unreserve', state('attaching')).status, 'available');
    assert.equal(transition('unreserve', state('available')).kind, 'ignored');
    assert.equal(transition('roll_detaching', state('in-use')).kind, 'ignored');
  });

  test('attach marks the volume attached from available, attaching, reserved and in-use', () => {
    for (const status of ['available', 'attaching', 'reserved', 'in-use'] as const) {
      const next = accepted('attach', state(status));
      assert.deepEqual([next.status, next.attachStatus], ['in-use', 'attached']);
    }
    assert.match(rejection('attach', state('deleting')), /current status is deleting\.$/);
  });

  test('begin_detaching needs in-use and attached, and is silent while migrating', () => {
    assert.equal(accepted('begin_detaching', state('in-use')).status, 'detaching');
    const message =
      "Invalid volume: Unable to detach volume. Volume status must be 'in-use' and attach_status must be 'attached' to detach.";
    assert.equal(rejection('begin_detaching', state('available')), message);
    assert.equal(rejection('begin_detaching', state('in-use', { attachStatus: 'attaching' })), message);
    assert.equal(transition('begin_detaching', state('in-use', { migrationStatus: 'migrating' })).kind, 'ignored');
    assert.equal(accepted('roll_detaching', state('detaching')).status, 'in-use');
  });
});

describe('attachments API transitions', () => {
  test('attachment_reserve: available or downloading, plus in-use for multiattach', () => {
    assert.equal(accepted('attachment_reserve', state('available')).status, 'reserved');
    assert.equal(accepted('attachment_reserve', state('downloading')).status, 'reserved');
    assert.equal(accepted('attachment_reserve', state('in-use', { multiattach: true })).status, 'reserved');
    assert.equal(
      rejection('attachment_reserve', state('reserved')),
      `Invalid volume: Volume ${ID} status must be available or downloading to reserve, but the current status is reserved.`,
    );
    assert.equal(
      rejection('attachment_reserve', state('attaching', { multiattach: true })),
      `Invalid volume: Volume ${ID} status must be available or in-use or downloading to reserve, but the current status is attaching.`,
    );
  });

  test('connect and complete refuse error states and volumes being deleted', () => {
    const connected = accepted('attachment_connect', state('reserved'));
    assert.deepEqual([connected.status, connected.attachStatus], ['attaching', 'attaching']);
    assert.match(rejection('attachment_connect', state('error')), /can not be updated if the volume is in an error state/);
    assert.match(rejection('attachment_connect', state('deleting')), /being deleted/);
    const completed = accepted('attachment_complete', state('reserved'));
    assert.deepEqual([completed.status, completed.attachStatus], ['in-use', 'attached']);
    assert.match(rejection('attachment_complete', state('deleting')), /being deleted/);
  });
});

describe('volume lifecycle transitions', () => {
  test('create settles creating volumes only', () => {
    assert.equal(accepted('create_succeeded', state('creating')).status, 'available');
    assert.equal(accepted('create_failed', state('creating')).status, 'error');
    assert.equal(transition('create_succeeded', state('deleting')).kind, 'ignored');
  });

  test('delete: Cinder deletable statuses, never attached or migrating; force widens only the status', () => {
    for (const status of ['available', 'error', 'error_restoring', 'error_extending', 'error_managing'] as const) {
      const next = accepted('delete', state(status));
      assert.equal(next.status, 'deleting');
      assert.deepEqual(next.effects, ['delete_volume']);
    }
    assert.match(rejection('delete', state('in-use')), /^Invalid volume: Volume status must be available or error/);
    assert.match(rejection('delete', state('available', { attachStatus: 'attached' })), /must not be migrating, attached/);
    assert.match(rejection('delete', state('available', { migrationStatus: 'migrating' })), /must not be migrating/);
    assert.equal(accepted('force_delete', state('attaching')).status, 'deleting');
    rejection('force_delete', state('in-use'));
  });

  test('extend remembers where it came from and returns there', () => {
    const started = accepted('extend', state('available'));
    assert.deepEqual([started.status, started.previousStatus, started.effects], ['extending', 'available', ['extend_volume']]);
    assert.equal(
      rejection('extend', state('in-use')),
      `Invalid volume: Volume ${ID} status must be '{'status': 'available'}' to extend, currently in-use.`,
    );
    assert.equal(accepted('extend_attached', state('in-use')).previousStatus, 'in-use');
    assert.equal(accepted('extend_succeeded', state('extending', { previousStatus: 'in-use' })).status, 'in-use');
    assert.equal(accepted('extend_failed', state('extending')).status, 'error_extending');
  });

  test('every rule starts from real statuses', () => {
    for (const [event, rule] of Object.entries(RULES)) {
      for (const status of [...rule.from, ...(rule.fromMultiattach ?? [])]) {
        assert.ok(VOLUME_STATUSES.includes(status), `${event}: ${status}`);
      }
    }
  });
});
