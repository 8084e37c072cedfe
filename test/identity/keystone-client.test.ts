// The Keystone client's own bookkeeping, against a scripted identity server on a real
// socket: the service's token renewed before it expires and got again after a 401, one
// validation for many concurrent requests with one token, and Keystone's failures turned
// into answers that say what happened without naming a secret. The real Keystone's side is
// in keystone-auth.test.ts; here the server's answers are chosen to reach every branch.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { pino } from 'pino';
import { IdentityUnavailable, KeystoneAuthenticator, Unauthenticated } from '../../src/identity/authenticator.js';
import { KeystoneClient } from '../../src/identity/keystone-client.js';

interface Scripted {
  url: string;
  /** Every request as "METHOD path token-it-carried". */
  log: string[];
  issued: string[];
  revoked: Set<string>;
  /** Seconds each issued service token lives. */
  lifetime: number;
  /** Answer every validation with this status instead. */
  failWith: number | null;
  /** Hold validations this long before answering. */
  delayMs: number;
}

const GOOD = 'good-user-token';
const SERVICE = 'nova-service-token';
const PASSWORD = 'the-service-password';

async function scriptedKeystone(t: TestContext): Promise<Scripted> {
  const state: Scripted = { url: '', log: [], issued: [], revoked: new Set(), lifetime: 3600, failWith: null, delayMs: 0 };
  const identity = (user: string, roles: string[], expiresIn = 3600) => ({
    token: {
      user: { id: `${user}-id`, name: user, domain: { id: 'default' } },
      project: { id: 'p1', name: 'demo', domain: { id: 'default' } },
      roles: roles.map((name) => ({ id: `${name}-id`, name })),
      expires_at: new Date(Date.now() + expiresIn * 1000).toISOString(),
    },
  });
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const path = (req.url ?? '').split('?', 1)[0];
      state.log.push(`${req.method} ${path} ${String(req.headers['x-auth-token'] ?? '')}`);
      const json = (status: number, doc: unknown, headers: Record<string, string> = {}) =>
        res.writeHead(status, { 'Content-Type': 'application/json', ...headers }).end(JSON.stringify(doc));
      if (req.method === 'POST' && path === '/v3/auth/tokens') {
        const password = JSON.parse(body).auth.identity.password.user.password;
        if (password !== PASSWORD) return json(401, { error: { code: 401 } });
        const token = `svc-${state.issued.length + 1}`;
        state.issued.push(token);
        return json(201, identity('cinder', ['service'], state.lifetime), { 'X-Subject-Token': token });
      }
      if (req.method === 'GET' && path === '/v3/auth/tokens') {
        const answer = () => {
          if (state.failWith) return json(state.failWith, { error: { code: state.failWith } });
          const own = String(req.headers['x-auth-token']);
          if (!state.issued.includes(own) || state.revoked.has(own)) return json(401, { error: { code: 401 } });
          const subject = req.headers['x-subject-token'];
          if (subject === GOOD) return json(200, identity('alice', ['member', 'reader']));
          if (subject === SERVICE) return json(200, identity('nova', ['service']));
          return json(404, { error: { code: 404 } });
        };
        if (state.delayMs) setTimeout(answer, state.delayMs);
        else answer();
        return;
      }
      json(404, {});
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  state.url = `http://127.0.0.1:${(server.address() as { port: number }).port}/v3`;
  return state;
}

function clientFor(ks: Scripted, password = PASSWORD, timeoutMs = 2000): KeystoneClient {
  return new KeystoneClient(
    { url: ks.url, user: 'cinder', password, project: 'service', userDomain: 'Default', projectDomain: 'Default', timeoutMs },
    pino({ level: 'silent' }),
  );
}

const validations = (ks: Scripted) => ks.log.filter((l) => l.startsWith('GET /v3/auth/tokens'));

test("the service's token: got once, renewed before it expires, got again when Keystone stops honouring it", async (t) => {
  const ks = await scriptedKeystone(t);
  ks.lifetime = 2;
  const client = clientFor(ks);
  assert.equal((await client.validate(GOOD))?.userId, 'alice-id');
  assert.equal((await client.validate(GOOD))?.userId, 'alice-id');
  assert.deepEqual(ks.issued, ['svc-1']);
  // A fifth of a 2 s lifetime before it ends, a new one is got before the next validation.
  await new Promise((r) => setTimeout(r, 1700));
  await client.validate(GOOD);
  assert.deepEqual(ks.issued, ['svc-1', 'svc-2']);
  assert.ok(validations(ks).every((l) => !l.endsWith('svc-1') || ks.log.indexOf(l) < 3), 'no validation used the old token once renewal was due');
  ks.lifetime = 3600;
  // Revoked behind the service's back: the 401 gets a fresh token and one more try.
  ks.revoked.add('svc-2');
  assert.equal((await client.validate(GOOD))?.userId, 'alice-id');
  assert.deepEqual(ks.issued, ['svc-1', 'svc-2', 'svc-3']);
  assert.deepEqual(validations(ks).slice(-2).map((l) => l.split(' ')[2]), ['svc-2', 'svc-3']);
  assert.equal(await client.validate('garbage'), null);
});

test('many concurrent requests with one new token cause one validation; refusals are cached too', async (t) => {
  const ks = await scriptedKeystone(t);
  ks.delayMs = 100;
  const auth = new KeystoneAuthenticator(clientFor(ks), { cacheTimeMs: 60_000, serviceTokenRoles: ['service'], serviceTokenRolesRequired: true });
  const callers = await Promise.all(Array.from({ length: 50 }, () => auth.authenticate(GOOD, SERVICE)));
  assert.ok(callers.every((c) => c.user.userId === 'alice-id' && c.isService));
  // One for the user's token, one for the service token.
  assert.equal(validations(ks).length, 2);
  // Answered from the cache: no promise, no request.
  const cached = auth.authenticate(GOOD, undefined);
  assert.ok(!(cached instanceof Promise));
  assert.equal(cached.isService, false);
  const garbage = await Promise.allSettled(Array.from({ length: 10 }, () => auth.authenticate('garbage', undefined)));
  assert.ok(garbage.every((r) => r.status === 'rejected' && r.reason instanceof Unauthenticated));
  assert.throws(() => auth.authenticate('garbage', undefined), Unauthenticated);
  assert.equal(validations(ks).length, 3);
  // A valid token without a service role, sent as the service token, is refused.
  await assert.rejects(Promise.resolve().then(() => auth.authenticate(SERVICE, GOOD)), /service token without a service role/);
});

test("Keystone's failures say what happened, and never the password", async (t) => {
  const ks = await scriptedKeystone(t);
  const reason = async (client: KeystoneClient) => {
    try {
      await client.validate(GOOD);
    } catch (err) {
      assert.ok(err instanceof IdentityUnavailable);
      assert.ok(!err.message.includes(PASSWORD) && !err.detail.includes(PASSWORD) && !err.detail.includes('wrong-password'));
      return err.reason;
    }
    assert.fail('expected IdentityUnavailable');
  };
  assert.equal(await reason(clientFor(ks, 'wrong-password')), "Keystone refused this service's credentials");
  ks.failWith = 500;
  assert.equal(await reason(clientFor(ks)), 'Keystone answered HTTP 500');
  ks.failWith = 403;
  assert.equal(await reason(clientFor(ks)), 'Keystone refused this service the validation of tokens');
  ks.failWith = null;
  ks.delayMs = 1500;
  const started = Date.now();
  assert.equal(await reason(clientFor(ks, PASSWORD, 300)), 'Keystone did not answer within 0.3 s');
  assert.ok(Date.now() - started < 1400);
  // A port just freed, so nothing listens there (fetch refuses well-known ports itself).
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const freedPort = (probe.address() as { port: number }).port;
  await new Promise<void>((r) => probe.close(() => r()));
  assert.match(await reason(new KeystoneClient({ url: `http://127.0.0.1:${freedPort}/v3`, user: 'u', password: PASSWORD, project: 'p', userDomain: 'Default', projectDomain: 'Default', timeoutMs: 2000 }, pino({ level: 'silent' }))), /^Keystone could not be reached \(ECONNREFUSED\)$/);
});
