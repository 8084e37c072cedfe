// key=value pairs of Login and Text PDUs (RFC 7143 6.1): UTF-8, each pair ended by
// a NUL. Order matters (CHAP keys are answered in sequence), so a list is kept.

export type TextPairs = Array<[key: string, value: string]>;

export class TextFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TextFormatError';
  }
}

const MAX_KEY_LENGTH = 63;

export function parseText(data: Buffer): TextPairs {
  const pairs: TextPairs = [];
  const text = data.toString('utf8');
  for (const item of text.split('\0')) {
    if (item === '') continue;
    const eq = item.indexOf('=');
    if (eq <= 0) throw new TextFormatError('text item without a key=value form');
    const key = item.slice(0, eq);
    if (key.length > MAX_KEY_LENGTH) throw new TextFormatError('text key too long');
    pairs.push([key, item.slice(eq + 1)]);
  }
  return pairs;
}

export function encodeText(pairs: TextPairs): Buffer {
  if (pairs.length === 0) return Buffer.alloc(0);
  return Buffer.from(pairs.map(([k, v]) => `${k}=${v}\0`).join(''), 'utf8');
}
