// The API's pure parts, for the cases HTTP tests cannot reach in noauth mode.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiFault, faultBody } from '../../src/api/faults.js';
import { MAX_VERSION, negotiate } from '../../src/api/microversion.js';
import { isUuidLike, validationFault } from '../../src/api/validation.js';

function faultOf(fn: () => unknown): ApiFault {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ApiFault, String(err));
    return err;
  }
  assert.fail('no fault');
}

test('fault names by status; anything unlisted is a computeFault', () => {
  assert.deepEqual(faultBody(405, 'x'), { badMethod: { code: 405, message: 'x' } });
  assert.deepEqual(faultBody(501, 'x'), { notImplemented: { code: 501, message: 'x' } });
  assert.deepEqual(faultBody(503, 'x'), { serviceUnavailable: { code: 503, message: 'x' } });
  assert.deepEqual(faultBody(413, 'x'), { overLimit: { code: 413, message: 'x', retryAfter: '0' } });
  assert.deepEqual(faultBody(502, 'x'), { computeFault: { code: 502, message: 'x' } });
});

test('microversion header forms', () => {
  assert.equal(String(negotiate(undefined)), '3.0');
  assert.equal(String(negotiate('volume 3.27')), '3.27');
  assert.equal(String(negotiate('volume latest')), String(MAX_VERSION));
  assert.equal(String(negotiate(['compute 2.1', 'volume 3.44'])), '3.44');
  assert.equal(faultOf(() => negotiate('volume 3.5 extra')).status, 400);
  assert.equal(faultOf(() => negotiate('')).status, 400);
  const high = faultOf(() => negotiate('volume 3.71'));
  assert.equal(high.status, 406);
  assert.equal(String(high.extra.echoVersion), '3.71');
});

test('validation texts read like jsonschema\'s', () => {
  const fault = validationFault([
    {
      keyword: 'additionalProperties',
      instancePath: '/volume',
      params: { additionalProperty: 'a' },
      data: { size: 1, a: 1, b: 2 },
      parentSchema: { properties: { size: {} } },
    },
  ]);
  assert.equal(
    fault.message,
    "Invalid input for field/attribute volume. Value: {'size': 1, 'a': 1, 'b': 2}. Additional properties are not allowed ('a', 'b' were unexpected)",
  );
  const root = validationFault([{ keyword: 'type', instancePath: '', params: {}, data: null, schema: 'object' }]);
  assert.equal(root.message, "None is not of type 'object'");
  const typed = validationFault([{ keyword: 'type', instancePath: '/a/size', params: {}, data: true, schema: ['integer', 'string'] }]);
  assert.equal(typed.message, "Invalid input for field/attribute size. Value: True. True is not of type 'integer', 'string'");
});

test('uuid-like as oslo sees it', () => {
  assert.ok(isUuidLike('0a6e6e54-3cd4-4d5b-95c1-d3cd63a6c9f2'));
  assert.ok(isUuidLike('0A6E6E543CD44D5B95C1D3CD63A6C9F2'));
  assert.ok(!isUuidLike('notauuid'));
  assert.ok(!isUuidLike('0a6e6e54-3cd4-4d5b-95c1-d3cd63a6c9f'));
});
