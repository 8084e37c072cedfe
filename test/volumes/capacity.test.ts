// Cinder's CapacityFilter and CapacityWeigher on numbers worked out by hand from
// capacity_filter.py and calculate_capacity_factors.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backendPasses, capacityWeight, type PoolCapacity } from '../../src/volumes/capacity.js';

const pool = (over: Partial<PoolCapacity> = {}): PoolCapacity => ({
  total_capacity_gb: 100,
  free_capacity_gb: 80,
  provisioned_capacity_gb: 0,
  thin_provisioning_support: true,
  max_over_subscription_ratio: 20,
  reserved_percentage: 0,
  ...over,
});

test('thin: the reserve comes off the total, the rest may be promised ratio times over, less what is promised already', () => {
  // 100 GiB, 10% reserved: 90 * 20 = 1800 GiB may be promised; 300 are.
  const p = pool({ reserved_percentage: 10, provisioned_capacity_gb: 300 });
  assert.equal(backendPasses(p, 1500, true).passes, true);
  assert.deepEqual(backendPasses(p, 1501, true), { passes: false, reason: 'free virtual capacity 1500 GiB cannot hold a thin 1501 GiB volume' });
  assert.equal(capacityWeight(p, true), 1500);
  // Free space does not limit a thin volume: 80 GiB free, 1500 promised.
  assert.equal(backendPasses(pool({ free_capacity_gb: 1 }), 1999, true).passes, true);
  // The reserve is rounded down to whole GiB, as Cinder's math.floor does: 10.5 * 1% -> 0.
  assert.equal(capacityWeight(pool({ total_capacity_gb: 10.5, reserved_percentage: 1 }), true), 210);
});

test('thick: free space, after the reserve and what is provisioned, is the limit', () => {
  // min(free 80, 100 - 10 reserved - 15 provisioned = 75)
  const p = pool({ reserved_percentage: 10, provisioned_capacity_gb: 15 });
  assert.equal(backendPasses(p, 75, false).passes, true);
  assert.deepEqual(backendPasses(p, 76, false), { passes: false, reason: 'free capacity 75 GiB cannot hold a 76 GiB volume' });
  assert.equal(capacityWeight(p, false), 75);
  // A backend without thin provisioning is thick whatever the type asks.
  assert.equal(backendPasses(pool({ thin_provisioning_support: false }), 81, true).passes, false);
  assert.equal(backendPasses(pool({ thin_provisioning_support: false }), 80, true).passes, true);
});

test('what a backend cannot say, and what makes no sense', () => {
  assert.deepEqual(backendPasses(pool({ free_capacity_gb: null }), 1, true), { passes: false, reason: 'no capacity reported' });
  assert.equal(backendPasses(pool({ free_capacity_gb: 'unknown' }), 10 ** 9, true).passes, true);
  assert.equal(backendPasses(pool({ free_capacity_gb: 'infinite' }), 10 ** 9, true).passes, true);
  assert.equal(backendPasses(pool({ total_capacity_gb: 'infinite' }), 10 ** 9, true).passes, true);
  assert.equal(backendPasses(pool({ total_capacity_gb: 'unknown', reserved_percentage: 5 }), 1, true).passes, false);
  assert.equal(backendPasses(pool({ total_capacity_gb: 0 }), 1, true).passes, false);
  assert.equal(backendPasses(pool({ max_over_subscription_ratio: 0.5 }), 1, true).passes, false);
  assert.equal(capacityWeight(pool({ free_capacity_gb: 'unknown' }), true), -1);
});

test('the 100,000,000 GiB volume of the issue fits no ordinary filesystem', () => {
  const disk = pool({ total_capacity_gb: 251.98, free_capacity_gb: 77.7, provisioned_capacity_gb: 12 });
  const verdict = backendPasses(disk, 100_000_000, true);
  assert.equal(verdict.passes, false);
  assert.equal(verdict.reason, 'provisioned capacity would be 100000012 GiB, 19842.85 times the 5039.6 GiB available (maximum 20)');
});
