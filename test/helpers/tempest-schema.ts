// Holds a response to the schema tempest holds Cinder's response to, checked by tempest's own
// code (RestClient.validate_response) from the installed tempest package: the status code, the
// body (additionalProperties and all) and the headers. One Python process per test process
// answers every check, so a check costs a pipe round trip, not an interpreter start.
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Response } from './service.js';

const PYTHON = '/usr/bin/python3';
const TEMPEST_SCHEMAS = '/usr/lib/python3/dist-packages/tempest/lib/api_schema/response/volume';
// The .py file stays in the source tree: tsc does not copy it to dist.
const VALIDATOR = fileURLToPath(new URL('../../../test/helpers/py/tempest_schema_validator.py', import.meta.url));

interface Validator {
  child: ChildProcessWithoutNullStreams;
  pending: Array<(answer: { ok: boolean; error?: string }) => void>;
}

let validator: Validator | undefined;

function start(): Validator {
  const child = spawn(PYTHON, [VALIDATOR], { stdio: ['pipe', 'pipe', 'pipe'] });
  const started: Validator = { child, pending: [] };
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += String(chunk)));
  createInterface({ input: child.stdout }).on('line', (line) => started.pending.shift()?.(JSON.parse(line)));
  child.on('exit', (code) => {
    for (const answer of started.pending.splice(0)) answer({ ok: false, error: `the schema validator exited (${code}): ${stderr}` });
    if (validator === started) validator = undefined;
  });
  // The test process may end while the validator waits for input.
  child.unref();
  for (const stream of [child.stdin, child.stdout, child.stderr]) (stream as unknown as { unref?: () => void }).unref?.();
  return started;
}

/** Whether tempest's schemas are installed; outside CI a test without them is skipped, in CI it fails. */
export function requireTempestSchemas(t: TestContext): boolean {
  if (existsSync(TEMPEST_SCHEMAS) && existsSync(PYTHON)) return true;
  if (process.env.CI === 'true') throw new Error(`tempest's response schemas are not installed (${TEMPEST_SCHEMAS}): apt-get install -y tempest`);
  t.skip('tempest is not installed');
  return false;
}

/**
 * Asserts that `res` is what tempest accepts under `schema`, a module under
 * tempest/lib/api_schema/response/volume and an attribute of it, e.g. `volumes.create_volume`
 * or `v3_64.volumes.show_volume`.
 */
export async function assertTempestSchema(res: Response, schema: string): Promise<void> {
  validator ??= start();
  const running = validator;
  const headers: Record<string, string> = {};
  res.headers.forEach((value, key) => (headers[key] = value));
  const answer = await new Promise<{ ok: boolean; error?: string }>((resolve) => {
    running.pending.push(resolve);
    running.child.stdin.write(JSON.stringify({ schema, status: res.status, headers, body: res.text === '' ? null : res.body }) + '\n');
  });
  assert.ok(answer.ok, `tempest's ${schema} refuses the response: ${answer.error}\nThe response: ${res.status} ${res.text.slice(0, 2000)}`);
}
