import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backEndLimits, frontEndSpecs, type VolumeQos } from '../../src/manager/qos.js';

const qos = (consumer: string, specs: Record<string, string | null>, sizeGiB = 10): VolumeQos => ({ consumer, specs, sizeGiB });

test('front-end specs: only for front-end and both, per-GB keys resolved as Cinder does and the rest kept as strings', () => {
  assert.equal(frontEndSpecs(null), null);
  assert.equal(frontEndSpecs(qos('back-end', { total_iops_sec: '100' })), null);
  assert.deepEqual(frontEndSpecs(qos('front-end', { read_iops_sec: '2000', other: null })), { read_iops_sec: '2000', other: null });
  assert.deepEqual(
    frontEndSpecs(
      qos('both', {
        read_iops_sec_per_gb: '5',
        read_iops_sec_per_gb_min: '100',
        write_bytes_sec_per_gb: '1000',
        write_bytes_sec_max: '5000',
        total_iops_sec_per_gb: '7',
        total_iops_sec: '1',
      }),
    ),
    // 5 * 10 under the minimum; 1000 * 10 over the maximum; 7 * 10 replaces the fixed value.
    { read_iops_sec: 100, write_bytes_sec: 5000, total_iops_sec: 70 },
  );
  // Helper keys without their per-GB key stay, as Cinder leaves them.
  assert.deepEqual(frontEndSpecs(qos('front-end', { read_iops_sec_max: '9' })), { read_iops_sec_max: '9' });
});

test('back-end limits: only for back-end and both, positive numbers of the six keys, nothing when none is left', () => {
  assert.equal(backEndLimits(qos('front-end', { total_iops_sec: '100' })), undefined);
  assert.deepEqual(backEndLimits(qos('back-end', { total_iops_sec: '100', write_bytes_sec_per_gb: '1048576', iops_bytes: '5' }, 3)), {
    total_iops_sec: 100,
    write_bytes_sec: 3 * 1048576,
  });
  assert.equal(backEndLimits(qos('both', { total_iops_sec: '0', read_iops_sec: 'fast', write_iops_sec: null })), undefined);
});
