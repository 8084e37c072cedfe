import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { LoginMachine, type LoginEnvironment, type LoginRequest, type AuthPolicy } from '../../src/iscsi/login/login.js';
import { DEFAULT_TARGET_LIMITS, defaultSessionParams, negotiateKey } from '../../src/iscsi/login/negotiation.js';
import { decodeChapBinary, chooseChapAlgorithm } from '../../src/iscsi/login/chap.js';
import { LoginStatus } from '../../src/iscsi/pdu/constants.js';

const TARGET = 'iqn.2010-10.org.openstack:volume-1';
const INITIATOR = 'iqn.1994-05.com.redhat:host1';
const SECRET = 'initiator-secret-1';
const MUTUAL_SECRET = 'target-secret-22';

function env(auth: AuthPolicy = {}, extra: Partial<LoginEnvironment> = {}): LoginEnvironment {
  let tsih = 7;
  return {
    limits: DEFAULT_TARGET_LIMITS,
    portalGroupTag: 1,
    targetAuth: (iqn) => (iqn === TARGET ? auth : undefined),
    isAllowed: (_iqn, initiator) => initiator === INITIATOR,
    allocateTsih: () => tsih++,
    ...extra,
  };
}

function req(csg: number, nsg: number, transit: boolean, keys: Record<string, string>): LoginRequest {
  const text = Object.entries(keys)
    .map(([k, v]) => `${k}=${v}\0`)
    .join('');
  return { transit, cont: false, csg, nsg, versionMax: 0, versionMin: 0, isid: Buffer.from('800000000001', 'hex'), tsih: 0, data: Buffer.from(text) };
}

const keysOf = (pairs: Array<[string, string]>): Map<string, string> => new Map(pairs);

function md5Response(id: number, secret: string, challengeHex: string): string {
  const c = Buffer.from(challengeHex.slice(2), 'hex');
  return createHash('md5').update(Buffer.of(id)).update(secret).update(c).digest('hex');
}

test('no CHAP: AuthMethod=None, then operational keys negotiated by their result functions', () => {
  const m = new LoginMachine(env());
  const r1 = m.handle(req(0, 1, true, { InitiatorName: INITIATOR, TargetName: TARGET, SessionType: 'Normal', AuthMethod: 'CHAP,None' }));
  assert.equal(r1.status, LoginStatus.Success);
  assert.equal(r1.transit, true);
  assert.equal(r1.nsg, 1);
  const k1 = keysOf(r1.keys);
  assert.equal(k1.get('AuthMethod'), 'None');
  assert.equal(k1.get('TargetPortalGroupTag'), '1');

  const r2 = m.handle(
    req(1, 3, true, {
      HeaderDigest: 'None,CRC32C',
      DataDigest: 'None',
      InitialR2T: 'No',
      ImmediateData: 'Yes',
      MaxBurstLength: '262144',
      FirstBurstLength: '262144',
      MaxRecvDataSegmentLength: '131072',
      MaxOutstandingR2T: '1',
      ErrorRecoveryLevel: '2',
      MaxConnections: '4',
      DefaultTime2Wait: '0',
      DefaultTime2Retain: '0',
      IFMarker: 'No',
      OFMarker: 'No',
      DataPDUInOrder: 'No',
      DataSequenceInOrder: 'Yes',
      'X-com.example.unknown': 'foo',
    }),
  );
  assert.equal(r2.status, LoginStatus.Success);
  assert.equal(r2.transit, true);
  assert.equal(r2.nsg, 3);
  assert.equal(m.finished, true);
  assert.equal(m.result.tsih, 7);
  const k = keysOf(r2.keys);
  assert.equal(k.get('HeaderDigest'), 'None');
  assert.equal(k.get('DataDigest'), 'None');
  assert.equal(k.get('InitialR2T'), 'No');
  assert.equal(k.get('ImmediateData'), 'Yes');
  assert.equal(k.get('MaxBurstLength'), '262144');
  assert.equal(k.get('FirstBurstLength'), '262144');
  assert.equal(k.get('ErrorRecoveryLevel'), '0');
  assert.equal(k.get('MaxConnections'), '1');
  assert.equal(k.get('DefaultTime2Wait'), '2');
  assert.equal(k.get('DataPDUInOrder'), 'Yes');
  assert.equal(k.get('X-com.example.unknown'), 'NotUnderstood');
  // Declarative: the initiator's value is not answered, ours is declared.
  assert.equal(k.get('MaxRecvDataSegmentLength'), '262144');
  assert.equal(m.result.params.maxXmitDataSegmentLength, 131072);
  assert.equal(m.result.params.maxRecvDataSegmentLength, 262144);
  assert.equal(m.result.initiatorName, INITIATOR);
});

test('large bursts are granted up to our 16 MiB-ish limit and FirstBurstLength never exceeds MaxBurstLength', () => {
  const limits = DEFAULT_TARGET_LIMITS;
  const p = defaultSessionParams(limits);
  assert.equal(negotiateKey('MaxBurstLength', '16777215', p, limits, false), String(limits.maxBurstLength));
  assert.equal(negotiateKey('FirstBurstLength', '16777215', p, limits, false), String(limits.maxBurstLength));
  const q = defaultSessionParams(limits);
  assert.equal(negotiateKey('MaxBurstLength', '65536', q, limits, false), '65536');
  assert.equal(negotiateKey('FirstBurstLength', '262144', q, limits, false), '65536');
  assert.equal(negotiateKey('MaxBurstLength', '100', q, limits, false), 'Reject');
  assert.equal(negotiateKey('MaxBurstLength', 'lots', q, limits, false), 'Reject');
  assert.equal(negotiateKey('MaxBurstLength', '0x10000', defaultSessionParams(limits), limits, false), '65536');
  assert.equal(negotiateKey('ImmediateData', 'No', q, limits, false), 'No');
  assert.equal(q.immediateData, false);
  assert.equal(negotiateKey('ImmediateData', 'maybe', q, limits, false), 'Reject');
  assert.equal(negotiateKey('HeaderDigest', 'MD5', q, limits, false), 'Reject');
});

test('a target that prefers CRC32C gets it when offered second', () => {
  const limits = { ...DEFAULT_TARGET_LIMITS, preferHeaderDigest: true };
  const p = defaultSessionParams(limits);
  assert.equal(negotiateKey('HeaderDigest', 'None,CRC32C', p, limits, false), 'CRC32C');
  assert.equal(p.headerDigest, true);
  assert.equal(negotiateKey('DataDigest', 'None,CRC32C', p, limits, false), 'None');
});

test('discovery sessions answer normal-session keys with Irrelevant', () => {
  const m = new LoginMachine(env());
  m.handle(req(0, 1, true, { InitiatorName: 'iqn.anyone', SessionType: 'Discovery', AuthMethod: 'None' }));
  const r = m.handle(req(1, 3, true, { MaxBurstLength: '262144', InitialR2T: 'No', HeaderDigest: 'None' }));
  const k = keysOf(r.keys);
  assert.equal(k.get('MaxBurstLength'), 'Irrelevant');
  assert.equal(k.get('InitialR2T'), 'Irrelevant');
  assert.equal(k.get('HeaderDigest'), 'None');
  assert.equal(m.result.sessionType, 'Discovery');
  assert.equal(m.finished, true);
});

function chapLogin(auth: AuthPolicy, algorithms: string, respond: (id: number, challenge: string) => Record<string, string>) {
  const m = new LoginMachine(env(auth));
  const r1 = m.handle(req(0, 1, true, { InitiatorName: INITIATOR, TargetName: TARGET, AuthMethod: 'CHAP,None' }));
  assert.equal(keysOf(r1.keys).get('AuthMethod'), 'CHAP');
  assert.equal(r1.transit, false, 'no transit before authentication');
  const r2 = m.handle(req(0, 1, false, { CHAP_A: algorithms }));
  const k2 = keysOf(r2.keys);
  const id = Number(k2.get('CHAP_I'));
  const challenge = k2.get('CHAP_C')!;
  assert.match(challenge, /^0x[0-9a-f]+$/);
  const r3 = m.handle(req(0, 1, true, respond(id, challenge)));
  return { m, algorithm: k2.get('CHAP_A'), r3 };
}

test('CHAP MD5 with an uppercase 0X-hex response logs in; the secret never shows up in replies', () => {
  const { m, algorithm, r3 } = chapLogin({ chap: { username: 'user1', password: SECRET } }, '5', (id, c) => ({
    CHAP_N: 'user1',
    CHAP_R: `0X${md5Response(id, SECRET, c).toUpperCase()}`,
  }));
  assert.equal(algorithm, '5');
  assert.equal(r3.status, LoginStatus.Success);
  assert.equal(r3.transit, true);
  const r4 = m.handle(req(1, 3, true, {}));
  assert.equal(r4.status, LoginStatus.Success);
  assert.equal(m.finished, true);
  assert.ok(!JSON.stringify([r3, r4]).includes(SECRET));
});

test('CHAP with base64 (0b) response and SHA-256 when offered', () => {
  const { algorithm, r3 } = chapLogin({ chap: { username: 'u', password: SECRET } }, '7,5', (id, c) => {
    const digest = createHash('sha256').update(Buffer.of(id)).update(SECRET).update(Buffer.from(c.slice(2), 'hex')).digest();
    return { CHAP_N: 'u', CHAP_R: `0b${digest.toString('base64')}` };
  });
  assert.equal(algorithm, '7');
  assert.equal(r3.status, LoginStatus.Success);
});

test('wrong CHAP secret or user fails with 0x0201 and the reason holds no secret', () => {
  for (const [user, secret] of [
    ['user1', 'wrong-secret'],
    ['other', SECRET],
  ] as const) {
    const { r3 } = chapLogin({ chap: { username: 'user1', password: SECRET } }, '5', (id, c) => ({
      CHAP_N: user,
      CHAP_R: `0x${md5Response(id, secret, c)}`,
    }));
    assert.equal(r3.status, LoginStatus.AuthenticationFailure);
    assert.ok(!String(r3.reason).includes(SECRET));
    assert.ok(!String(r3.reason).includes('wrong-secret'));
  }
});

test('mutual CHAP: the target answers the initiator challenge with its own secret', () => {
  const initiatorChallenge = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
  const { r3 } = chapLogin(
    { chap: { username: 'user1', password: SECRET }, mutual: { username: 'tgt', password: MUTUAL_SECRET } },
    '5',
    (id, c) => ({
      CHAP_N: 'user1',
      CHAP_R: `0x${md5Response(id, SECRET, c)}`,
      CHAP_I: '77',
      CHAP_C: `0x${initiatorChallenge.toString('hex')}`,
    }),
  );
  assert.equal(r3.status, LoginStatus.Success);
  const k = keysOf(r3.keys);
  assert.equal(k.get('CHAP_N'), 'tgt');
  const expected = createHash('md5').update(Buffer.of(77)).update(MUTUAL_SECRET).update(initiatorChallenge).digest('hex');
  assert.equal(k.get('CHAP_R'), `0x${expected}`);
});

test('mutual CHAP asked of a target without a mutual account, or with a reflected challenge, fails', () => {
  const { r3 } = chapLogin({ chap: { username: 'user1', password: SECRET } }, '5', (id, c) => ({
    CHAP_N: 'user1',
    CHAP_R: `0x${md5Response(id, SECRET, c)}`,
    CHAP_I: '1',
    CHAP_C: '0x0102030405060708',
  }));
  assert.equal(r3.status, LoginStatus.AuthenticationFailure);
  const reflected = chapLogin(
    { chap: { username: 'user1', password: SECRET }, mutual: { username: 'tgt', password: MUTUAL_SECRET } },
    '5',
    (id, c) => ({ CHAP_N: 'user1', CHAP_R: `0x${md5Response(id, SECRET, c)}`, CHAP_I: String(id), CHAP_C: c }),
  );
  assert.equal(reflected.r3.status, LoginStatus.AuthenticationFailure);
});

test('a target with CHAP refuses AuthMethod=None and skipping the security stage', () => {
  const auth = { chap: { username: 'u', password: SECRET } };
  const a = new LoginMachine(env(auth));
  assert.equal(a.handle(req(0, 1, true, { InitiatorName: INITIATOR, TargetName: TARGET, AuthMethod: 'None' })).status, LoginStatus.AuthenticationFailure);
  const b = new LoginMachine(env(auth));
  assert.equal(b.handle(req(1, 3, true, { InitiatorName: INITIATOR, TargetName: TARGET })).status, LoginStatus.AuthenticationFailure);
  const c = new LoginMachine(env());
  assert.equal(c.handle(req(1, 3, true, { InitiatorName: INITIATOR, TargetName: TARGET })).status, LoginStatus.Success);
  assert.equal(c.finished, true);
});

test('login failures carry the right status class and detail', () => {
  const cases: Array<[Record<string, string>, LoginStatus]> = [
    [{ TargetName: TARGET }, LoginStatus.MissingParameter],
    [{ InitiatorName: INITIATOR }, LoginStatus.MissingParameter],
    [{ InitiatorName: INITIATOR, TargetName: 'iqn.nope' }, LoginStatus.TargetNotFound],
    [{ InitiatorName: 'iqn.stranger', TargetName: TARGET }, LoginStatus.AuthorizationFailure],
    [{ InitiatorName: INITIATOR, TargetName: TARGET, SessionType: 'Weird' }, LoginStatus.SessionTypeNotSupported],
  ];
  for (const [keys, status] of cases) {
    const r = new LoginMachine(env()).handle(req(0, 1, true, keys));
    assert.equal(r.status, status, JSON.stringify(keys));
    assert.equal(r.transit, false);
  }
  const badVersion = new LoginMachine(env()).handle({ ...req(0, 1, true, { InitiatorName: INITIATOR, TargetName: TARGET }), versionMin: 2 });
  assert.equal(badVersion.status, LoginStatus.UnsupportedVersion);
  const join = new LoginMachine(env()).handle({ ...req(0, 1, true, { InitiatorName: INITIATOR, TargetName: TARGET }), tsih: 5 });
  assert.equal(join.status, LoginStatus.SessionDoesNotExist);
  const dup = new LoginMachine(env()).handle({
    ...req(0, 1, true, {}),
    data: Buffer.from(`InitiatorName=${INITIATOR}\0TargetName=${TARGET}\0TargetName=${TARGET}\0`),
  });
  assert.equal(dup.status, LoginStatus.InitiatorError);
  const garbage = new LoginMachine(env()).handle({ ...req(0, 1, true, {}), data: Buffer.from('no-equals-sign\0') });
  assert.equal(garbage.status, LoginStatus.InitiatorError);
  const badStage = new LoginMachine(env()).handle(req(0, 2, true, { InitiatorName: INITIATOR, TargetName: TARGET }));
  assert.equal(badStage.status, LoginStatus.InitiatorError);
});

test('discovery CHAP is enforced when configured', () => {
  const m = new LoginMachine(env({}, { discoveryAuth: { chap: { username: 'd', password: SECRET } } }));
  const r = m.handle(req(0, 1, true, { InitiatorName: 'iqn.any', SessionType: 'Discovery', AuthMethod: 'None' }));
  assert.equal(r.status, LoginStatus.AuthenticationFailure);
});

test('text split over PDUs with the C bit is reassembled', () => {
  const m = new LoginMachine(env());
  const all = Buffer.from(`InitiatorName=${INITIATOR}\0TargetName=${TARGET}\0AuthMethod=None\0`);
  const first = m.handle({ ...req(0, 1, false, {}), cont: true, data: all.subarray(0, 20) });
  assert.equal(first.status, LoginStatus.Success);
  assert.deepEqual(first.keys, []);
  const second = m.handle({ ...req(0, 1, true, {}), data: all.subarray(20) });
  assert.equal(second.status, LoginStatus.Success);
  assert.equal(keysOf(second.keys).get('AuthMethod'), 'None');
});

test('CHAP binary values: hex in any case, odd length, base64; junk is refused', () => {
  assert.deepEqual([...decodeChapBinary('0xABcd')!], [0xab, 0xcd]);
  assert.deepEqual([...decodeChapBinary('0xabc')!], [0x0a, 0xbc]);
  assert.deepEqual([...decodeChapBinary('0bAQID')!], [1, 2, 3]);
  assert.equal(decodeChapBinary('0xzz'), null);
  assert.equal(decodeChapBinary('abcd'), null);
  assert.equal(decodeChapBinary('0x'), null);
  assert.equal(chooseChapAlgorithm('5,7'), 7);
  assert.equal(chooseChapAlgorithm('5'), 5);
  assert.equal(chooseChapAlgorithm('6'), null);
});

test('leading keys repeated with the same value are tolerated, a changed one is refused', () => {
  const m = new LoginMachine(env());
  m.handle(req(0, 1, false, { InitiatorName: INITIATOR, SessionType: 'Discovery', AuthMethod: 'CHAP,None' }));
  const again = m.handle(req(0, 1, true, { InitiatorName: INITIATOR, SessionType: 'Discovery' }));
  assert.equal(again.status, LoginStatus.Success);
  assert.equal(again.transit, true);
  const n = new LoginMachine(env());
  n.handle(req(0, 1, false, { InitiatorName: INITIATOR, SessionType: 'Discovery', AuthMethod: 'None' }));
  assert.equal(n.handle(req(0, 1, true, { InitiatorName: 'iqn.someone-else' })).status, LoginStatus.InitiatorError);
});
