import { randomInt } from 'node:crypto';
import type { ChapCredentials } from '../targets/target.js';

// Cinder's password alphabet: no 0/1/I/O/l, so credentials survive being read aloud or
// copied by hand; every credential holds at least one character of each group.
const GROUPS = ['23456789', 'ABCDEFGHJKLMNPQRSTUVWXYZ', 'abcdefghijkmnopqrstuvwxyz'];
const ALPHABET = GROUPS.join('');

export const CHAP_USERNAME_LENGTH = 20;
export const CHAP_PASSWORD_LENGTH = 16;

export function generateSecret(length: number): string {
  const chars = GROUPS.map((group) => group[randomInt(group.length)]!);
  while (chars.length < length) chars.push(ALPHABET[randomInt(ALPHABET.length)]!);
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j]!, chars[i]!];
  }
  return chars.join('');
}

export function generateChap(): ChapCredentials {
  return { username: generateSecret(CHAP_USERNAME_LENGTH), password: generateSecret(CHAP_PASSWORD_LENGTH) };
}

export function formatProviderAuth(chap: ChapCredentials): string {
  return `CHAP ${chap.username} ${chap.password}`;
}

export function parseProviderAuth(value: string | null): ChapCredentials | null {
  if (!value) return null;
  const [method, username, password] = value.trim().split(/\s+/);
  if (method !== 'CHAP' || !username || !password) return null;
  return { username, password };
}
