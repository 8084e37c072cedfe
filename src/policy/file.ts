// An operator's policy file, as oslo.policy reads one: a mapping of rule name to check
// string, in YAML or JSON (JSON is YAML too, so one parser reads both and gives every key
// a line). Anything that would make the policy mean something other than what the file
// seems to say stops start-up, naming the file and line; all of them at once, so one
// edit fixes the lot.

import { readFileSync } from 'node:fs';
import { closest, distance } from 'fastest-levenshtein';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import { CREDENTIAL_KEYS } from './evaluate.js';
import { leafChecks, parseRule, PolicyParseError, referencedRules, type CheckNode } from './parser.js';

export interface PolicyFileRule {
  readonly name: string;
  readonly check: string;
  readonly tree: CheckNode;
  readonly line: number;
}

export interface DefaultRule {
  readonly tree: CheckNode;
  readonly enforced: boolean;
}

export interface PolicyFileProblem {
  /** 1-based; null when the file could not be read at all. */
  readonly line: number | null;
  readonly message: string;
}

export class PolicyFileError extends Error {
  readonly file: string;
  readonly problems: readonly PolicyFileProblem[];
  constructor(file: string, problems: readonly PolicyFileProblem[]) {
    super(problems.map((problem) => located(file, problem.line, problem.message)).join('\n'));
    this.name = 'PolicyFileError';
    this.file = file;
    this.problems = problems;
  }
}

function located(file: string, line: number | null, message: string): string {
  return `policy file ${file}${line === null ? '' : ` line ${line}`}: ${message}`;
}

/**
 * Reads and checks a policy file against the default rules (Cinder's, by name). Returns the
 * file's rules in file order, and warnings for rules that load but will not do what the
 * operator may think. Throws PolicyFileError.
 */
export function loadPolicyFile(file: string, defaults: ReadonlyMap<string, DefaultRule>): { rules: PolicyFileRule[]; warnings: string[] } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new PolicyFileError(file, [{ line: null, message: `cannot be read: ${(err as Error).message}` }]);
  }
  const { rules, names, problems } = readRules(file, text);
  problems.push(...badReferences(rules, names, defaults), ...unknownNames(rules, names, defaults), ...cycles(rules, defaults));
  if (problems.length) throw new PolicyFileError(file, problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0)));
  const warnings = rules.flatMap((rule) => warningsFor(rule, defaults).map((message) => located(file, rule.line, message)));
  return { rules, warnings };
}

interface ReadRules {
  /** The rules whose check strings parsed. */
  rules: PolicyFileRule[];
  /** Every rule name in the file, with its line, whether or not its check string parsed. */
  names: Array<{ name: string; line: number }>;
  problems: PolicyFileProblem[];
}

/** The file's rules; a file that is not YAML at all, or not a mapping, is refused here and then. */
function readRules(file: string, text: string): ReadRules {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const lineOf = (offset: number) => lines.linePos(offset).line;
  const nodeLine = (node: Node | null, otherwise: number) => (node?.range ? lineOf(node.range[0]) : otherwise);
  if (doc.errors.length) {
    throw new PolicyFileError(file, doc.errors.map((err) => ({ line: lineOf(err.pos[0]), message: `not valid YAML or JSON: ${err.message.split('\n')[0]}` })));
  }
  const top = doc.contents;
  if (top === null) return { rules: [], names: [], problems: [] }; // An empty file, as oslo reads it: nothing overridden.
  if (!isMap(top)) {
    throw new PolicyFileError(file, [{ line: nodeLine(top, 1), message: `expected a mapping of rule names to check strings, found ${describe(top)}` }]);
  }
  const rules: PolicyFileRule[] = [];
  const names: Array<{ name: string; line: number }> = [];
  const problems: PolicyFileProblem[] = [];
  for (const pair of top.items) {
    const key = pair.key as Node | null;
    const value = pair.value as Node | null;
    const keyLine = nodeLine(key, nodeLine(value, 1));
    if (!isScalar(key) || typeof key.value !== 'string') {
      problems.push({ line: keyLine, message: `expected a rule name (a string) as the key, found ${key ? describe(key) : 'nothing'}` });
      continue;
    }
    const name = key.value;
    const line = nodeLine(value, keyLine);
    names.push({ name, line });
    if (!isScalar(value) || typeof value.value !== 'string') {
      const found = value && !(isScalar(value) && value.value === null) ? describe(value) : 'nothing';
      problems.push({ line, message: `"${name}": expected a check string, found ${found} (write "" to allow everyone, "!" to allow no one)` });
      continue;
    }
    try {
      rules.push({ name, check: value.value, tree: parseRule(value.value), line });
    } catch (err) {
      if (!(err instanceof PolicyParseError)) throw err;
      problems.push({ line, message: `"${name}": check string "${value.value}" does not parse: ${err.message}` });
    }
  }
  return { rules, names, problems };
}

function describe(node: Node): string {
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a list';
  if (isScalar(node)) return node.value === null ? 'nothing' : `the ${typeof node.value} ${String(node.value)}`;
  return 'an alias';
}

function effectiveTrees(rules: readonly PolicyFileRule[], defaults: ReadonlyMap<string, DefaultRule>): Map<string, CheckNode> {
  const trees = new Map<string, CheckNode>();
  for (const [name, rule] of defaults) trees.set(name, rule.tree);
  for (const rule of rules) trees.set(rule.name, rule.tree);
  return trees;
}

// Only a near miss is worth suggesting; past a few edits the "closest" name is noise.
function didYouMean(name: string, candidates: readonly string[]): string {
  if (candidates.length === 0) return '';
  const best = closest(name, candidates as string[]);
  return distance(name, best) <= Math.max(2, Math.floor(name.length * 0.3)) ? ` (did you mean "${best}"?)` : '';
}

function badReferences(rules: readonly PolicyFileRule[], names: ReadRules['names'], defaults: ReadonlyMap<string, DefaultRule>): PolicyFileProblem[] {
  const known = new Set([...defaults.keys(), ...names.map(({ name }) => name)]);
  const defined = [...known];
  return rules.flatMap((rule) =>
    referencedRules(rule.tree)
      .filter((target) => !known.has(target))
      .map((target) => ({ line: rule.line, message: `"${rule.name}": rule:${target} refers to a rule defined nowhere${didYouMean(target, defined)}` })),
  );
}

/** A name that is neither Cinder's nor used by a rule: check is almost surely a typo, which would leave the real rule at its default. */
function unknownNames(rules: readonly PolicyFileRule[], names: ReadRules['names'], defaults: ReadonlyMap<string, DefaultRule>): PolicyFileProblem[] {
  const referenced = new Set([...effectiveTrees(rules, defaults).values()].flatMap((tree) => referencedRules(tree)));
  const candidates = [...defaults.keys(), ...[...referenced].filter((name) => !defaults.has(name))];
  return names
    .filter(({ name }) => !defaults.has(name) && !referenced.has(name))
    .map(({ name, line }) => ({
      line,
      message: `"${name}" is not one of Cinder's rules, and no rule: check refers to it${didYouMean(name, candidates)}`,
    }));
}

/** Each loop of rule: references once, reported at the first of its rules in the file (only a file can make one). */
function cycles(rules: readonly PolicyFileRule[], defaults: ReadonlyMap<string, DefaultRule>): PolicyFileProblem[] {
  const trees = effectiveTrees(rules, defaults);
  const lineOf = new Map(rules.map((rule) => [rule.name, rule.line]));
  const state = new Map<string, 'visiting' | 'done'>();
  const path: string[] = [];
  const found: PolicyFileProblem[] = [];
  const visit = (name: string) => {
    const tree = trees.get(name);
    if (!tree || state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') {
      const loop = path.slice(path.indexOf(name));
      const first = loop.reduce((a, b) => ((lineOf.get(a) ?? Infinity) <= (lineOf.get(b) ?? Infinity) ? a : b));
      const start = loop.indexOf(first);
      const ordered = [...loop.slice(start), ...loop.slice(0, start), first];
      found.push({ line: lineOf.get(first) ?? null, message: `"${first}" refers back to itself through rule: checks: ${ordered.join(' -> ')}` });
      return;
    }
    state.set(name, 'visiting');
    path.push(name);
    for (const next of referencedRules(tree)) visit(next);
    path.pop();
    state.set(name, 'done');
  };
  for (const rule of rules) visit(rule.name);
  return found;
}

function warningsFor(rule: PolicyFileRule, defaults: ReadonlyMap<string, DefaultRule>): string[] {
  const warnings: string[] = [];
  if (defaults.get(rule.name)?.enforced === false) {
    warnings.push(`"${rule.name}" is one of Cinder's rules, but no Cinderblock API checks it yet: it is accepted and has no effect of its own`);
  }
  for (const leaf of leafChecks(rule.tree)) {
    if (leaf.type !== 'generic' || !leaf.credentialPath) continue;
    if (leaf.credentialPath.length === 1 && CREDENTIAL_KEYS.includes(leaf.kind)) continue;
    warnings.push(
      `"${rule.name}": the check on "${leaf.kind}" is always false: Cinderblock's credentials have only ${CREDENTIAL_KEYS.join(', ')}`,
    );
  }
  return warnings;
}
