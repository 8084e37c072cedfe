import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { requireTool } from '../helpers/env.js';
import { run, startTarget } from '../iscsi/interop-fixture.js';

const CHAP = { username: 'qemu-user', password: 'qemu-secret-789' };
const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

test('qemu-img info sees a raw disk of the right size over CHAP', async (t) => {
  const tool = requireTool(t, 'qemu-img');
  if (!tool) return;
  const fx = await startTarget(t, { sizeBytes: 32 << 20, target: { chap: CHAP } });
  const res = await run(tool, ['info', '-f', 'raw', fx.url(CHAP)]);
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stdout, /virtual size: 32 MiB \(33554432 bytes\)/);
  const refused = await run(tool, ['info', '-f', 'raw', fx.url()]);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /Authentication failure/);
});

test('qemu-img convert -n onto the LUN and back gives the same sha256', async (t) => {
  const tool = requireTool(t, 'qemu-img');
  if (!tool) return;
  const fx = await startTarget(t, { sizeBytes: 24 << 20, target: { chap: CHAP } });
  const source = randomBytes(24 << 20);
  const src = join(fx.dir, 'source.raw');
  const back = join(fx.dir, 'back.raw');
  await writeFile(src, source);
  const up = await run(tool, ['convert', '-f', 'raw', '-O', 'raw', '-n', src, fx.url(CHAP)]);
  assert.equal(up.code, 0, up.stderr);
  const down = await run(tool, ['convert', '-f', 'raw', '-O', 'raw', fx.url(CHAP), back]);
  assert.equal(down.code, 0, down.stderr);
  assert.equal(sha256(await readFile(back)), sha256(source));
  // And the bytes really are in the backing file.
  assert.equal(sha256(await readFile(fx.path)), sha256(source));
});

test('qemu-io patterns: write, read back, write zeroes, discard, aio and vectored writes, flush', async (t) => {
  const tool = requireTool(t, 'qemu-io');
  if (!tool) return;
  const fx = await startTarget(t, { sizeBytes: 32 << 20 });
  const cmds = [
    'write -P 0xab 1M 64k',
    'read -P 0xab 1M 64k',
    'write -P 0x11 2M 128k',
    'write -z 2M 128k',
    'read -P 0x00 2M 128k',
    'write -P 0x22 4M 1M',
    'discard 4M 1M',
    'read -P 0x00 4M 1M',
    'aio_write -P 0xcd 8M 512k',
    'aio_flush',
    'read -P 0xcd 8M 512k',
    'writev -P 0x71 12M 4k 4k 4k',
    'read -P 0x71 12M 12k',
    'flush',
  ];
  const res = await run(tool, ['-f', 'raw', ...cmds.flatMap((c) => ['-c', c]), fx.url()]);
  assert.equal(res.code, 0, res.stdout + res.stderr);
  assert.doesNotMatch(res.stdout, /Pattern verification failed|error/i);
  const file = await readFile(fx.path);
  assert.ok(file.subarray(1 << 20, (1 << 20) + 65536).every((b) => b === 0xab));
  assert.ok(file.subarray(12 << 20, (12 << 20) + 12288).every((b) => b === 0x71));
  // A wrong pattern must be noticed, or the checks above prove nothing.
  const mismatch = await run(tool, ['-f', 'raw', '-c', 'read -P 0x99 1M 4k', fx.url()]);
  assert.match(mismatch.stdout + mismatch.stderr, /Pattern verification failed/);
});
