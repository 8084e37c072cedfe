// Whether a backend can make a volume of a type: Cinder's CapabilitiesFilter, which holds
// each of the type's extra specs against what the backend last reported, with the
// operators of Cinder's extra_specs_ops ("<is> True", ">= 10", "<or> a <or> b", ...).

import type { CapacityVerdict } from './capacity.js';

/** The spellings of one storage protocol; a backend reporting any of them is taken to report them all. */
const PROTOCOL_VARIANTS = [['iSCSI', 'iscsi'], ['FC', 'fibre_channel', 'fc'], ['NFS', 'nfs'], ['NVMe-oF', 'NVMeOF', 'nvmeof']];

const TRUE_WORDS = ['1', 't', 'true', 'on', 'y', 'yes'];

/** Python's float() of a capability or a spec word; null where it raises ValueError. */
function pythonFloat(value: unknown): number | null {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') return null;
  const text = value.trim().replace(/(\d)_(?=\d)/g, '$1');
  if (/^[+-]?(inf|infinity)$/i.test(text)) return text.startsWith('-') ? -Infinity : Infinity;
  if (/^[+-]?nan$/i.test(text)) return NaN;
  return /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text) ? Number(text) : null;
}

/** oslo's bool_from_string, not strict: anything but its true words is false. */
function pythonBool(value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value : '';
  return TRUE_WORDS.includes(text.trim().toLowerCase());
}

function numeric(compare: (a: number, b: number) => boolean) {
  return (value: unknown, wanted: string) => {
    const a = pythonFloat(value);
    const b = pythonFloat(wanted);
    return a !== null && b !== null && compare(a, b);
  };
}

/** Python compares only strings with strings; anything else raises, which the filter takes as no match. */
function textual(compare: (a: string, b: string) => boolean) {
  return (value: unknown, wanted: string) => typeof value === 'string' && compare(value, wanted);
}

const OPERATORS: Record<string, (value: unknown, wanted: string) => boolean> = {
  '=': numeric((a, b) => a >= b),
  '<in>': (value, wanted) => typeof value === 'string' && value.includes(wanted),
  '<is>': (value, wanted) => pythonBool(value) === pythonBool(wanted),
  '==': numeric((a, b) => a === b),
  '!=': numeric((a, b) => a !== b),
  '>=': numeric((a, b) => a >= b),
  '<=': numeric((a, b) => a <= b),
  's==': textual((a, b) => a === b),
  's!=': textual((a, b) => a !== b),
  's<': textual((a, b) => a < b),
  's<=': textual((a, b) => a <= b),
  's>': textual((a, b) => a > b),
  's>=': textual((a, b) => a >= b),
};

/** extra_specs_ops.match: one reported value against one spec; a spec with no operator must equal the value. */
export function specMatches(value: unknown, spec: string): boolean {
  const words = spec.split(/\s+/).filter((word) => word !== '');
  const op = words.shift();
  const method = op === undefined ? undefined : OPERATORS[op];
  if (op !== '<or>' && !method) return value === spec;
  if (value === undefined || value === null) return false;
  if (op === '<or>') {
    // <or> v1 <or> v2 ...: every other word is a choice.
    return words.some((word, i) => i % 2 === 0 && word === value);
  }
  return words.length > 0 && method!(value, words[0]!);
}

/** The reported value a spec names: "capabilities:" is dropped, and a:b reads b inside a. */
function reportedValue(capabilities: Record<string, unknown>, path: string[]): { found: boolean; value?: unknown } {
  let current: unknown = capabilities;
  for (const key of path) {
    if (!current || typeof current !== 'object' || Array.isArray(current) || !Object.hasOwn(current, key)) return { found: false };
    current = (current as Record<string, unknown>)[key];
  }
  return { found: true, value: current };
}

/** What the scheduler's host manager makes of a report: a storage protocol stands for all its spellings. */
function asScheduled(capabilities: Record<string, unknown>): Record<string, unknown> {
  const protocol = capabilities.storage_protocol;
  const variants = PROTOCOL_VARIANTS.find((spellings) => spellings.includes(protocol as string));
  return variants ? { ...capabilities, storage_protocol: variants } : capabilities;
}

/**
 * CapabilitiesFilter.backend_passes for a new volume of a type with `extraSpecs`. Specs
 * scoped to anything but "capabilities" (provisioning:type, a vendor's own) are not the
 * filter's to judge; every other one must be reported, and match.
 */
export function capabilitiesPass(reported: Record<string, unknown>, extraSpecs: Record<string, string>): CapacityVerdict {
  const capabilities = asScheduled(reported);
  for (const [key, spec] of Object.entries(extraSpecs)) {
    const scope = key.split(':');
    if (scope.length > 1 && scope[0] !== 'capabilities') continue;
    if (scope[0] === 'capabilities') scope.shift();
    const { found, value } = reportedValue(capabilities, scope);
    if (!found) return { passes: false, reason: `does not report capability '${scope.join(':')}'` };
    const values = Array.isArray(value) ? value : [value];
    if (!values.some((candidate) => specMatches(candidate, spec))) {
      return { passes: false, reason: `extra spec "${key}=${spec}" does not match reported capability ${JSON.stringify(value)}` };
    }
  }
  return { passes: true, reason: 'capabilities match' };
}
