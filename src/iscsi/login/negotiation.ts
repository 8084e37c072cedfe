// Operational text-key negotiation (RFC 7143 6.2, 13). Pure: given what the
// initiator offered and what the target allows, returns the value to answer and
// updates the session parameters. Result functions per key: min, max, AND, OR,
// list selection, or declarative.

export interface SessionParams {
  /** Largest data segment we accept: what we declared. */
  maxRecvDataSegmentLength: number;
  /** Largest data segment we may send: what the initiator declared. */
  maxXmitDataSegmentLength: number;
  maxBurstLength: number;
  firstBurstLength: number;
  immediateData: boolean;
  initialR2T: boolean;
  maxOutstandingR2T: number;
  dataPduInOrder: boolean;
  dataSequenceInOrder: boolean;
  errorRecoveryLevel: number;
  maxConnections: number;
  defaultTime2Wait: number;
  defaultTime2Retain: number;
  headerDigest: boolean;
  dataDigest: boolean;
}

/** What the target is willing to agree to. */
export interface TargetLimits {
  maxRecvDataSegmentLength: number;
  maxBurstLength: number;
  firstBurstLength: number;
  maxOutstandingR2T: number;
  /** Choose CRC32C whenever the initiator lists it (otherwise the initiator's first supported choice wins). */
  preferHeaderDigest: boolean;
  preferDataDigest: boolean;
}

export const DEFAULT_TARGET_LIMITS: TargetLimits = Object.freeze({
  maxRecvDataSegmentLength: 262144,
  // Just under 16 MiB: the largest multiple of 1 KiB the 24-bit key range allows.
  maxBurstLength: 16776192,
  firstBurstLength: 16776192,
  maxOutstandingR2T: 1,
  preferHeaderDigest: false,
  preferDataDigest: false,
});

/** RFC 7143 defaults, which hold for every key the initiator does not negotiate. */
export function defaultSessionParams(limits: TargetLimits): SessionParams {
  return {
    maxRecvDataSegmentLength: limits.maxRecvDataSegmentLength,
    maxXmitDataSegmentLength: 8192,
    maxBurstLength: 262144,
    firstBurstLength: 65536,
    immediateData: true,
    initialR2T: true,
    maxOutstandingR2T: 1,
    dataPduInOrder: true,
    dataSequenceInOrder: true,
    errorRecoveryLevel: 0,
    maxConnections: 1,
    defaultTime2Wait: 2,
    defaultTime2Retain: 20,
    headerDigest: false,
    dataDigest: false,
  };
}

export const OPERATIONAL_KEYS = new Set([
  'HeaderDigest',
  'DataDigest',
  'MaxConnections',
  'InitialR2T',
  'ImmediateData',
  'MaxRecvDataSegmentLength',
  'MaxBurstLength',
  'FirstBurstLength',
  'DefaultTime2Wait',
  'DefaultTime2Retain',
  'MaxOutstandingR2T',
  'DataPDUInOrder',
  'DataSequenceInOrder',
  'ErrorRecoveryLevel',
  'IFMarker',
  'OFMarker',
  'IFMarkInt',
  'OFMarkInt',
  'TaskReporting',
]);

/** Keys that only make sense for a normal session (RFC 7143 13: "Irrelevant when SessionType=Discovery"). */
const NORMAL_ONLY = new Set([
  'MaxConnections',
  'InitialR2T',
  'ImmediateData',
  'MaxBurstLength',
  'FirstBurstLength',
  'MaxOutstandingR2T',
  'DataPDUInOrder',
  'DataSequenceInOrder',
]);

/** Numbers may be decimal or 0x-hex (RFC 7143 5.1). */
export function parseNumber(value: string): number | null {
  if (/^[0-9]{1,10}$/.test(value)) return Number(value);
  if (/^0[xX][0-9a-fA-F]{1,8}$/.test(value)) return parseInt(value.slice(2), 16);
  return null;
}

function parseBool(value: string): boolean | null {
  return value === 'Yes' ? true : value === 'No' ? false : null;
}

const yesNo = (b: boolean): string => (b ? 'Yes' : 'No');

function inRange(value: string, lo: number, hi: number): number | null {
  const n = parseNumber(value);
  return n !== null && n >= lo && n <= hi ? n : null;
}

function selectDigest(offer: string, prefer: boolean): boolean | null {
  const values = offer.split(',');
  if (prefer && values.includes('CRC32C')) return true;
  for (const v of values) {
    if (v === 'None') return false;
    if (v === 'CRC32C') return true;
  }
  return null;
}

/**
 * Negotiates one operational key. Returns the value to answer with, or null when
 * the key is declarative from the initiator and gets no answer.
 */
export function negotiateKey(
  key: string,
  value: string,
  params: SessionParams,
  limits: TargetLimits,
  discovery: boolean,
): string | null {
  if (discovery && NORMAL_ONLY.has(key)) return 'Irrelevant';
  switch (key) {
    case 'HeaderDigest':
    case 'DataDigest': {
      const header = key === 'HeaderDigest';
      const choice = selectDigest(value, header ? limits.preferHeaderDigest : limits.preferDataDigest);
      if (choice === null) return 'Reject';
      if (header) params.headerDigest = choice;
      else params.dataDigest = choice;
      return choice ? 'CRC32C' : 'None';
    }
    case 'MaxRecvDataSegmentLength': {
      const n = inRange(value, 512, 16777215);
      if (n === null) return 'Reject';
      params.maxXmitDataSegmentLength = n;
      return null;
    }
    case 'MaxBurstLength': {
      const n = inRange(value, 512, 16777215);
      if (n === null) return 'Reject';
      params.maxBurstLength = Math.min(n, limits.maxBurstLength);
      params.firstBurstLength = Math.min(params.firstBurstLength, params.maxBurstLength);
      return String(params.maxBurstLength);
    }
    case 'FirstBurstLength': {
      const n = inRange(value, 512, 16777215);
      if (n === null) return 'Reject';
      params.firstBurstLength = Math.min(n, limits.firstBurstLength, params.maxBurstLength);
      return String(params.firstBurstLength);
    }
    case 'ImmediateData': {
      const b = parseBool(value);
      if (b === null) return 'Reject';
      params.immediateData = b; // AND with our Yes
      return yesNo(params.immediateData);
    }
    case 'InitialR2T': {
      const b = parseBool(value);
      if (b === null) return 'Reject';
      params.initialR2T = b; // OR with our No
      return yesNo(params.initialR2T);
    }
    case 'DataPDUInOrder':
    case 'DataSequenceInOrder': {
      // OR with our Yes: we always require in-order data.
      if (parseBool(value) === null) return 'Reject';
      return 'Yes';
    }
    case 'MaxOutstandingR2T': {
      const n = inRange(value, 1, 65535);
      if (n === null) return 'Reject';
      params.maxOutstandingR2T = Math.min(n, limits.maxOutstandingR2T);
      return String(params.maxOutstandingR2T);
    }
    case 'ErrorRecoveryLevel': {
      if (inRange(value, 0, 2) === null) return 'Reject';
      params.errorRecoveryLevel = 0;
      return '0';
    }
    case 'MaxConnections': {
      if (inRange(value, 1, 65535) === null) return 'Reject';
      params.maxConnections = 1;
      return '1';
    }
    case 'DefaultTime2Wait': {
      const n = inRange(value, 0, 3600);
      if (n === null) return 'Reject';
      params.defaultTime2Wait = Math.max(n, 2);
      return String(params.defaultTime2Wait);
    }
    case 'DefaultTime2Retain': {
      // ErrorRecoveryLevel 0 keeps nothing after a connection ends.
      if (inRange(value, 0, 3600) === null) return 'Reject';
      params.defaultTime2Retain = 0;
      return '0';
    }
    case 'IFMarker':
    case 'OFMarker':
      // Markers were removed by RFC 7143; answering No (AND) is the compatible reply.
      return parseBool(value) === null ? 'Reject' : 'No';
    case 'IFMarkInt':
    case 'OFMarkInt':
      return 'Irrelevant';
    case 'TaskReporting':
      // Neither ResponseFence nor FastAbort is implemented.
      return 'RFC3720';
    default:
      return 'NotUnderstood';
  }
}
