import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { createLogger } from '../../src/observability/log.js';
import { logLevelsOf, settableLevel } from '../../src/observability/log-levels.js';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, stream };
}

test('a level set by name reaches every logger under it, those made later and their children too', () => {
  const { lines, stream } = capture();
  const root = createLogger('info', stream);
  const manager = root.child({ component: 'manager' });
  const helper = root.child({ component: 'target:tgtadm' }).child({ targetHelper: 'tgtadm' });
  const levels = logLevelsOf(manager);

  assert.deepEqual(levels.get(''), { manager: 'INFO', 'target:tgtadm': 'INFO' });
  levels.set('target', 'DEBUG');
  assert.equal(helper.level, 'debug', 'the child of a named logger follows its name');
  helper.debug('written');
  manager.debug('dropped');
  assert.deepEqual(lines.map((line) => line.msg), ['written']);

  levels.set('manager', 'error');
  const later = root.child({ component: 'manager' });
  assert.equal(later.level, 'error', 'a logger made after the change writes at the level its name was given');
  assert.deepEqual(levels.get('man'), { manager: 'ERROR' });
  assert.equal(root.level, 'info', 'the root has no name, and keeps its level');
});

test("Cinder's levels, in any case, and nothing else", () => {
  assert.deepEqual(['INFO', 'warning', 'Error', 'debug'].map(settableLevel), ['info', 'warn', 'error', 'debug']);
  for (const refused of ['', 'trace', 'CRITICAL', 'warn', 'silent']) assert.equal(settableLevel(refused), null, refused);
  assert.throws(() => logLevelsOf(createLogger('info').child({}).child({ component: 'x' })).set('x', 'loud'), /loud is not a level that can be set/);
});
