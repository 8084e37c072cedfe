// The login phase of one connection as a pure state machine: each Login Request
// goes in, one Login Response (keys, stage transition, status) comes out. It knows
// targets only through the LoginEnvironment, and never puts a secret into a reason.

import { LoginStatus, Stage } from '../pdu/constants.js';
import { parseText, TextFormatError, type TextPairs } from '../pdu/text.js';
import {
  chapResponse,
  chooseChapAlgorithm,
  decodeChapBinary,
  encodeChapBinary,
  newChapChallenge,
  verifyChapResponse,
  type ChapChallenge,
} from './chap.js';
import { defaultSessionParams, negotiateKey, OPERATIONAL_KEYS, type SessionParams, type TargetLimits } from './negotiation.js';

export interface ChapAccount {
  username: string;
  password: string;
}

/** CHAP a login must pass: `chap` authenticates the initiator; `mutual` is what the target answers with when asked. */
export interface AuthPolicy {
  chap?: ChapAccount;
  mutual?: ChapAccount;
}

export interface LoginEnvironment {
  limits: TargetLimits;
  portalGroupTag: number;
  /** CHAP for discovery sessions; undefined means discovery needs no authentication. */
  discoveryAuth?: AuthPolicy;
  /** Auth policy of a target, or undefined when no such target exists. */
  targetAuth(iqn: string): AuthPolicy | undefined;
  /** Whether the initiator is on the target's access list. */
  isAllowed(iqn: string, initiatorName: string): boolean;
  allocateTsih(): number;
}

export interface LoginRequest {
  transit: boolean;
  cont: boolean;
  csg: number;
  nsg: number;
  versionMax: number;
  versionMin: number;
  isid: Buffer;
  tsih: number;
  data: Buffer;
}

export interface LoginReply {
  transit: boolean;
  csg: number;
  nsg: number;
  status: LoginStatus;
  keys: TextPairs;
  /** Set on a failure: why, for the log. Never contains a secret. */
  reason?: string;
}

export type SessionType = 'Normal' | 'Discovery';

export interface LoginResult {
  initiatorName: string;
  initiatorAlias?: string;
  sessionType: SessionType;
  targetName?: string;
  isid: Buffer;
  tsih: number;
  params: SessionParams;
}

type AuthState = 'none' | 'wait-chap-a' | 'wait-chap-r' | 'done';

class LoginFailure extends Error {
  constructor(
    readonly status: LoginStatus,
    reason: string,
  ) {
    super(reason);
  }
}

const SECURITY_KEYS = new Set(['AuthMethod', 'CHAP_A', 'CHAP_I', 'CHAP_C', 'CHAP_N', 'CHAP_R']);
const LEADING_KEYS = new Set(['InitiatorName', 'TargetName', 'SessionType', 'InitiatorAlias']);
const TARGET_DECLARED = new Set(['TargetAlias', 'TargetAddress', 'TargetPortalGroupTag', 'SendTargets']);

export class LoginMachine {
  /** Filled as the login proceeds; complete once `finished` is true. */
  readonly result: LoginResult;
  finished = false;
  failed = false;

  private stage: Stage | null = null;
  private auth: AuthPolicy = {};
  private authState: AuthState = 'none';
  private authenticated = false;
  private challenge?: ChapChallenge;
  private declaredMrdsl = false;
  private leadingDone = false;
  private readonly leadingKeys = new Map<string, string>();
  private pendingText: Buffer[] = [];
  private seenKeys = new Set<string>();

  constructor(private readonly env: LoginEnvironment) {
    this.result = {
      initiatorName: '',
      sessionType: 'Normal',
      isid: Buffer.alloc(6),
      tsih: 0,
      params: defaultSessionParams(env.limits),
    };
  }

  handle(req: LoginRequest): LoginReply {
    try {
      return this.step(req);
    } catch (err) {
      this.failed = true;
      if (err instanceof LoginFailure) {
        return { transit: false, csg: req.csg, nsg: 0, status: err.status, keys: [], reason: err.message };
      }
      if (err instanceof TextFormatError) {
        return { transit: false, csg: req.csg, nsg: 0, status: LoginStatus.InitiatorError, keys: [], reason: err.message };
      }
      throw err;
    }
  }

  private step(req: LoginRequest): LoginReply {
    if (this.finished || this.failed) throw new LoginFailure(LoginStatus.InvalidDuringLogin, 'login already ended');
    if (this.stage === null) {
      if (req.versionMin > 0) throw new LoginFailure(LoginStatus.UnsupportedVersion, 'unsupported iSCSI version');
      if (req.tsih !== 0) {
        // MaxConnections is 1: a connection cannot join an existing session.
        throw new LoginFailure(LoginStatus.SessionDoesNotExist, 'adding a connection to a session is not supported');
      }
      req.isid.copy(this.result.isid);
    }
    if (req.csg !== Stage.Security && req.csg !== Stage.Operational) {
      throw new LoginFailure(LoginStatus.InitiatorError, `invalid current stage ${req.csg}`);
    }
    if (this.stage !== null && req.csg !== this.stage) throw new LoginFailure(LoginStatus.InitiatorError, 'unexpected login stage');
    if (req.transit && (req.nsg <= req.csg || req.nsg === 2)) {
      throw new LoginFailure(LoginStatus.InitiatorError, `invalid next stage ${req.nsg}`);
    }
    if (req.transit && req.cont) throw new LoginFailure(LoginStatus.InitiatorError, 'both T and C bits set');

    this.pendingText.push(req.data);
    if (req.cont) {
      // More text follows in the next PDU; answer with an empty response.
      this.stage = req.csg;
      return { transit: false, csg: req.csg, nsg: 0, status: LoginStatus.Success, keys: [] };
    }
    const pairs = parseText(this.pendingText.length === 1 ? this.pendingText[0]! : Buffer.concat(this.pendingText));
    this.pendingText = [];

    const keys = new Map<string, string>();
    for (const [k, v] of pairs) {
      if (keys.has(k)) throw new LoginFailure(LoginStatus.InitiatorError, `key ${k} sent twice`);
      keys.set(k, v);
    }

    // The leading keys come with the first complete text, which may span several PDUs.
    const first = !this.leadingDone;
    this.leadingDone = true;
    const reply: TextPairs = [];
    if (first) {
      for (const k of LEADING_KEYS) if (keys.has(k)) this.leadingKeys.set(k, keys.get(k)!);
      this.leading(keys, reply);
    }
    this.stage = req.csg;

    if (req.csg === Stage.Security) {
      this.security(keys, reply);
    } else if (!this.authenticated) {
      // Skipping the security stage is only possible when no authentication is required.
      if (this.auth.chap) throw new LoginFailure(LoginStatus.AuthenticationFailure, 'authentication required');
      this.authenticated = true;
    }

    for (const [k, v] of keys) {
      if (SECURITY_KEYS.has(k)) {
        if (req.csg !== Stage.Security) throw new LoginFailure(LoginStatus.InitiatorError, `${k} outside the security stage`);
        continue;
      }
      if (LEADING_KEYS.has(k)) {
        // libiscsi repeats its leading keys when CHAP was offered but not needed (as for a
        // discovery session without CHAP); the same value again is harmless, a new one is not.
        if (!first && this.leadingKeys.get(k) !== v) {
          throw new LoginFailure(LoginStatus.InitiatorError, `${k} changed after the first login request`);
        }
        continue;
      }
      if (OPERATIONAL_KEYS.has(k)) {
        if (this.seenKeys.has(k)) throw new LoginFailure(LoginStatus.InitiatorError, `key ${k} negotiated twice`);
        this.seenKeys.add(k);
        const answer = negotiateKey(k, v, this.result.params, this.env.limits, this.result.sessionType === 'Discovery');
        if (answer !== null) reply.push([k, answer]);
        continue;
      }
      reply.push([k, TARGET_DECLARED.has(k) ? 'Irrelevant' : 'NotUnderstood']);
    }

    let transit = false;
    let nsg = 0;
    if (req.transit && this.authenticated) {
      transit = true;
      nsg = req.nsg;
      this.stage = req.nsg;
    }
    // Our MaxRecvDataSegmentLength is declarative: say it once, outside the security
    // exchange, or the initiator assumes 8192 and sends small PDUs.
    if (!this.declaredMrdsl && (req.csg === Stage.Operational || nsg === Stage.FullFeature)) {
      reply.push(['MaxRecvDataSegmentLength', String(this.result.params.maxRecvDataSegmentLength)]);
      this.declaredMrdsl = true;
    }
    if (transit && nsg === Stage.FullFeature) {
      this.result.tsih = this.env.allocateTsih();
      this.finished = true;
    }
    return { transit, csg: req.csg, nsg, status: LoginStatus.Success, keys: reply };
  }

  private leading(keys: Map<string, string>, reply: TextPairs): void {
    const initiatorName = keys.get('InitiatorName');
    if (!initiatorName) throw new LoginFailure(LoginStatus.MissingParameter, 'InitiatorName missing');
    this.result.initiatorName = initiatorName;
    const alias = keys.get('InitiatorAlias');
    if (alias !== undefined) this.result.initiatorAlias = alias;
    const sessionType = keys.get('SessionType') ?? 'Normal';
    if (sessionType !== 'Normal' && sessionType !== 'Discovery') {
      throw new LoginFailure(LoginStatus.SessionTypeNotSupported, 'unknown SessionType');
    }
    this.result.sessionType = sessionType;
    if (sessionType === 'Discovery') {
      this.auth = this.env.discoveryAuth ?? {};
      return;
    }
    const targetName = keys.get('TargetName');
    if (!targetName) throw new LoginFailure(LoginStatus.MissingParameter, 'TargetName missing');
    const auth = this.env.targetAuth(targetName);
    if (!auth) throw new LoginFailure(LoginStatus.TargetNotFound, `target ${targetName} not found`);
    if (!this.env.isAllowed(targetName, initiatorName)) {
      throw new LoginFailure(LoginStatus.AuthorizationFailure, `initiator ${initiatorName} not allowed on ${targetName}`);
    }
    this.result.targetName = targetName;
    this.auth = auth;
    reply.push(['TargetPortalGroupTag', String(this.env.portalGroupTag)]);
  }

  private security(keys: Map<string, string>, reply: TextPairs): void {
    const method = keys.get('AuthMethod');
    if (this.authState === 'none') {
      if (method !== undefined) {
        const offered = method.split(',');
        if (this.auth.chap) {
          if (!offered.includes('CHAP')) throw new LoginFailure(LoginStatus.AuthenticationFailure, 'CHAP required');
          reply.push(['AuthMethod', 'CHAP']);
          this.authState = 'wait-chap-a';
        } else {
          if (!offered.includes('None')) throw new LoginFailure(LoginStatus.AuthenticationFailure, 'no CHAP account on target');
          reply.push(['AuthMethod', 'None']);
          this.authenticated = true;
          this.authState = 'done';
        }
      } else if (!this.auth.chap) {
        this.authenticated = true; // AuthMethod defaults to None
        this.authState = 'done';
      } else {
        throw new LoginFailure(LoginStatus.AuthenticationFailure, 'CHAP required');
      }
    } else if (method !== undefined) {
      throw new LoginFailure(LoginStatus.InitiatorError, 'AuthMethod renegotiated');
    }

    if (this.authState === 'wait-chap-a' && keys.has('CHAP_A')) {
      const algorithm = chooseChapAlgorithm(keys.get('CHAP_A')!);
      if (algorithm === null) throw new LoginFailure(LoginStatus.AuthenticationFailure, 'no supported CHAP_A offered');
      this.challenge = newChapChallenge(algorithm);
      reply.push(
        ['CHAP_A', String(algorithm)],
        ['CHAP_I', String(this.challenge.identifier)],
        ['CHAP_C', encodeChapBinary(this.challenge.challenge)],
      );
      this.authState = 'wait-chap-r';
      return;
    }
    if (this.authState === 'wait-chap-r') this.checkChapResponse(keys, reply);
    else if (this.authState === 'wait-chap-a' && (keys.has('CHAP_N') || keys.has('CHAP_R'))) {
      throw new LoginFailure(LoginStatus.InitiatorError, 'CHAP_R before CHAP_A');
    }
  }

  private checkChapResponse(keys: Map<string, string>, reply: TextPairs): void {
    const name = keys.get('CHAP_N');
    const response = keys.get('CHAP_R');
    if (name === undefined || response === undefined) {
      throw new LoginFailure(LoginStatus.MissingParameter, 'CHAP_N or CHAP_R missing');
    }
    const account = this.auth.chap!;
    const challenge = this.challenge!;
    const decoded = decodeChapBinary(response);
    const ok =
      name === account.username &&
      decoded !== null &&
      verifyChapResponse(challenge.algorithm, challenge.identifier, account.password, challenge.challenge, decoded);
    if (!ok) throw new LoginFailure(LoginStatus.AuthenticationFailure, `CHAP authentication failed for user ${name}`);

    const mutualId = keys.get('CHAP_I');
    const mutualChallenge = keys.get('CHAP_C');
    if (mutualId !== undefined || mutualChallenge !== undefined) {
      if (!this.auth.mutual) throw new LoginFailure(LoginStatus.AuthenticationFailure, 'mutual CHAP requested but not configured');
      const id = mutualId === undefined ? null : Number(mutualId);
      const c = mutualChallenge === undefined ? null : decodeChapBinary(mutualChallenge);
      if (id === null || !Number.isInteger(id) || id < 0 || id > 255 || !/^\d+$/.test(mutualId!) || c === null) {
        throw new LoginFailure(LoginStatus.AuthenticationFailure, 'malformed mutual CHAP challenge');
      }
      // A reflected challenge would let an attacker make us answer our own question.
      if (c.equals(challenge.challenge)) throw new LoginFailure(LoginStatus.AuthenticationFailure, 'reflected CHAP challenge');
      reply.push(
        ['CHAP_N', this.auth.mutual.username],
        ['CHAP_R', encodeChapBinary(chapResponse(challenge.algorithm, id, this.auth.mutual.password, c))],
      );
    }
    this.authenticated = true;
    this.authState = 'done';
  }
}
