import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nowTimestamp, parseTimestamp } from '../../src/db/schema.js';

test('timestamps: naive UTC with microseconds, the current time, strictly increasing', () => {
  let previous = '';
  const started = Date.now();
  for (let i = 0; i < 5000; i++) {
    const stamp = nowTimestamp();
    assert.match(stamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
    assert.ok(stamp > previous, `${stamp} after ${previous}`);
    previous = stamp;
  }
  const last = parseTimestamp(previous)!.getTime();
  assert.ok(last >= started - 1 && last <= Date.now() + 1000, previous);
});
