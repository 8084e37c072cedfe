import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32c } from '../../src/iscsi/pdu/crc32c.js';

// Vectors from RFC 3720 appendix B.4 (the bytes are sent least significant first).
test('crc32c matches the RFC 3720 B.4 vectors', () => {
  assert.equal(crc32c(Buffer.alloc(32, 0x00)), 0x8a9136aa);
  assert.equal(crc32c(Buffer.alloc(32, 0xff)), 0x62a8ab43);
  const ascending = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
  assert.equal(crc32c(ascending), 0x46dd794e);
  const descending = Buffer.from(Array.from({ length: 32 }, (_, i) => 31 - i));
  assert.equal(crc32c(descending), 0x113fdb5c);
});

test('crc32c of "123456789" is the Castagnoli check value', () => {
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
});

test('crc32c can be chained across buffers and ranges', () => {
  const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 7) & 0xff));
  const whole = crc32c(data);
  assert.equal(crc32c(data.subarray(333), crc32c(data.subarray(0, 333))), whole);
  assert.equal(crc32c(data, 0, 0, 999), crc32c(data.subarray(0, 999)));
  for (let n = 0; n < 20; n++) {
    // The 8-byte fast path and the tail loop must agree on every length.
    const slow = data.subarray(0, n).reduce((c, b) => crc32c(Buffer.of(b), c), 0);
    assert.equal(crc32c(data.subarray(0, n)), slow);
  }
});
