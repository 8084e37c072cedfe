// Cinder's CapabilitiesFilter and extra_specs_ops, on their own: which reported values a
// volume type's extra specs accept.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { capabilitiesPass, specMatches } from '../../src/volumes/capabilities-filter.js';

const REPORTED = {
  vendor_name: 'Cinderblock',
  storage_protocol: 'iSCSI',
  volume_backend_name: 'file',
  thin_provisioning_support: true,
  thick_provisioning_support: false,
  multiattach: true,
  total_capacity_gb: 100,
  driver_version: '1.2.0',
  nested: { depth: 3 },
};

test('extra_specs_ops: each operator as Cinder reads it', () => {
  const cases: Array<[unknown, string, boolean]> = [
    ['file', 'file', true],
    ['file', 'lvm', false],
    // No operator: the whole spec must equal the value, and Python never equals a number to a string.
    [100, '100', false],
    [true, '<is> True', true],
    [true, '<is> False', false],
    [false, '<is> no', true],
    ['yes', '<is> on', true],
    [1, '<is> true', true],
    [100, '= 50', true],
    [100, '= 150', false],
    [100, '>= 100', true],
    [100, '<= 99.5', false],
    [100, '== 1e2', true],
    [100, '!= 100', false],
    ['100', '== 100', true],
    // float() of something that is no number is a ValueError, which is no match.
    ['abc', '>= 1', false],
    ['1.2.0', 's>= 1.1', true],
    ['1.2.0', 's< 1.1', false],
    ['1.2.0', 's== 1.2.0', true],
    ['1.2.0', 's!= 1.2.0', false],
    [12, 's== 12', false],
    ['iSCSI iser', '<in> iser', true],
    ['iSCSI', '<in> FC', false],
    ['b', '<or> a <or> b <or> c', true],
    ['d', '<or> a <or> b <or> c', false],
    // Only every other word after <or> is a choice.
    ['<or>', '<or> a <or> b', false],
    [null, '<is> True', false],
    [null, 'x', false],
    [true, '<is>', false],
  ];
  for (const [value, spec, expected] of cases) {
    assert.equal(specMatches(value, spec), expected, `${JSON.stringify(value)} against "${spec}"`);
  }
});

test('the capabilities filter: unscoped and capabilities: keys are judged, others are not the filter\'s', () => {
  assert.deepEqual(capabilitiesPass(REPORTED, {}), { passes: true, reason: 'capabilities match' });
  assert.equal(capabilitiesPass(REPORTED, { vendor_name: 'Cinderblock', 'capabilities:multiattach': '<is> True' }).passes, true);
  assert.equal(capabilitiesPass(REPORTED, { 'provisioning:type': 'thick', 'acme:tier': 'gold' }).passes, true);
  assert.equal(capabilitiesPass(REPORTED, { 'capabilities:nested:depth': '>= 3' }).passes, true);
  assert.equal(capabilitiesPass(REPORTED, { 'capabilities:vendor_name:deeper': 'x' }).passes, false);

  const wrongVendor = capabilitiesPass(REPORTED, { vendor_name: 'Open Source' });
  assert.deepEqual(wrongVendor, { passes: false, reason: 'extra spec "vendor_name=Open Source" does not match reported capability "Cinderblock"' });
  assert.deepEqual(capabilitiesPass(REPORTED, { compression: '<is> True' }), { passes: false, reason: "does not report capability 'compression'" });
});

test('a storage protocol matches under any of its spellings', () => {
  for (const spelling of ['iSCSI', 'iscsi', '<in> isc', '<or> FC <or> iscsi']) {
    assert.equal(capabilitiesPass(REPORTED, { storage_protocol: spelling }).passes, true, spelling);
  }
  assert.equal(capabilitiesPass(REPORTED, { storage_protocol: 'FC' }).passes, false);
  assert.equal(capabilitiesPass({ ...REPORTED, storage_protocol: 'fibre_channel' }, { storage_protocol: 'FC' }).passes, true);
  assert.equal(capabilitiesPass({ ...REPORTED, storage_protocol: 'RBD' }, { storage_protocol: 'RBD' }).passes, true);
});
