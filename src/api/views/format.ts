/** Cinder's wire datetime: naive UTC with six fractional digits, no zone suffix. */
export function naiveUtc(date: Date): string {
  return `${date.toISOString().slice(0, 23)}000`;
}

export function naiveUtcOrNull(date: Date | null): string | null {
  return date ? naiveUtc(date) : null;
}
