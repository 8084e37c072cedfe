// CHAP for iSCSI (RFC 1994 as profiled by RFC 7143 12.1.3): the response is
// H(identifier || secret || challenge). Binary values travel as 0x-hex (any case)
// or 0b-base64. Secrets stay inside this module's callers' closures: nothing here
// formats a secret into a string.

import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';

/** CHAP_A values we implement: 5 = MD5, 7 = SHA-256. */
export type ChapAlgorithm = 5 | 7;

const HASH: Record<ChapAlgorithm, string> = { 5: 'md5', 7: 'sha256' };
const DIGEST_BYTES: Record<ChapAlgorithm, number> = { 5: 16, 7: 32 };

/** Picks from the initiator's CHAP_A list, preferring SHA-256 over MD5 whenever offered. */
export function chooseChapAlgorithm(offer: string): ChapAlgorithm | null {
  const offered = offer.split(',').map((v) => v.trim());
  if (offered.includes('7')) return 7;
  if (offered.includes('5')) return 5;
  return null;
}

/** Decodes a CHAP binary value; null when it is not well-formed. */
export function decodeChapBinary(value: string): Buffer | null {
  const prefix = value.slice(0, 2).toLowerCase();
  const body = value.slice(2);
  if (body.length === 0) return null;
  if (prefix === '0x') {
    // RFC 7143 allows an odd digit count (implied leading zero).
    const hex = body.length % 2 ? `0${body}` : body;
    return /^[0-9a-fA-F]+$/.test(hex) ? Buffer.from(hex, 'hex') : null;
  }
  if (prefix === '0b') {
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(body)) return null;
    const decoded = Buffer.from(body, 'base64');
    return decoded.length ? decoded : null;
  }
  return null;
}

export const encodeChapBinary = (value: Buffer): string => `0x${value.toString('hex')}`;

export function chapResponse(algorithm: ChapAlgorithm, identifier: number, secret: string, challenge: Buffer): Buffer {
  return createHash(HASH[algorithm])
    .update(Buffer.of(identifier & 0xff))
    .update(secret, 'utf8')
    .update(challenge)
    .digest();
}

export function verifyChapResponse(
  algorithm: ChapAlgorithm,
  identifier: number,
  secret: string,
  challenge: Buffer,
  response: Buffer,
): boolean {
  const expected = chapResponse(algorithm, identifier, secret, challenge);
  return response.length === expected.length && timingSafeEqual(response, expected);
}

export interface ChapChallenge {
  algorithm: ChapAlgorithm;
  identifier: number;
  challenge: Buffer;
}

export function newChapChallenge(algorithm: ChapAlgorithm): ChapChallenge {
  return { algorithm, identifier: randomInt(256), challenge: randomBytes(DIGEST_BYTES[algorithm]) };
}
