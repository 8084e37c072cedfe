// oslo.policy's rule language, parsed once into a tree. Tokens are cut the way oslo cuts
// them (whitespace, then leading "(" and trailing ")" peeled off each word), so a check
// string means here what it means to Cinder. Where oslo quietly fails closed on a string
// it cannot read (a word without ":", an unbalanced parenthesis, a bad "%" format), this
// parser refuses it instead: a policy that silently denies everything is worse than one
// that stops start-up with the reason.

/** One piece of a check's right-hand side: literal text, or a key substituted from the target. */
export type TemplatePart = string | { readonly targetKey: string };

export type CheckNode =
  | { readonly type: 'always' }
  | { readonly type: 'never' }
  | { readonly type: 'and'; readonly checks: readonly CheckNode[] }
  | { readonly type: 'or'; readonly checks: readonly CheckNode[] }
  | { readonly type: 'not'; readonly check: CheckNode }
  | { readonly type: 'rule'; readonly name: string }
  | { readonly type: 'role'; readonly role: readonly TemplatePart[] }
  | {
      readonly type: 'generic';
      /** The word as written before the first ":". */
      readonly kind: string;
      /** str() of the left side when oslo's literal_eval reads it as a literal (True, 'x', 42); otherwise null. */
      readonly literal: string | null;
      /** The credential path (dotted) when the left side is not a literal. */
      readonly credentialPath: readonly string[] | null;
      readonly match: readonly TemplatePart[];
    };

export class PolicyParseError extends Error {
  /** 1-based position in the check string of the word that could not be read. */
  readonly column: number;
  constructor(reason: string, column: number) {
    super(`${reason} (at column ${column})`);
    this.name = 'PolicyParseError';
    this.column = column;
  }
}

type Token =
  | { readonly kind: '(' | ')' | 'and' | 'or' | 'not'; readonly text: string; readonly offset: number }
  | { readonly kind: 'check'; readonly node: CheckNode; readonly text: string; readonly offset: number };

// Python's \s on str, which oslo splits on: wider than ASCII, and not quite JavaScript's \s.
const PYTHON_WHITESPACE = /[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/g;

function* words(rule: string): Generator<{ word: string; offset: number }> {
  let start = 0;
  for (const gap of rule.matchAll(PYTHON_WHITESPACE)) {
    if (gap.index > start) yield { word: rule.slice(start, gap.index), offset: start };
    start = gap.index + gap[0].length;
  }
  if (start < rule.length) yield { word: rule.slice(start), offset: start };
}

function tokenize(rule: string): Token[] {
  const tokens: Token[] = [];
  for (const { word, offset } of words(rule)) {
    let lead = 0;
    while (word[lead] === '(') tokens.push({ kind: '(', text: '(', offset: offset + lead++ });
    const rest = word.slice(lead);
    if (!rest) continue;
    let end = rest.length;
    while (end > 0 && rest[end - 1] === ')') end--;
    const clean = rest.slice(0, end);
    const at = offset + lead;
    const lowered = clean.toLowerCase();
    if (lowered === 'and' || lowered === 'or' || lowered === 'not') {
      tokens.push({ kind: lowered, text: clean, offset: at });
    } else if (clean) {
      // oslo looks for quotes on the word with its trailing parentheses still on.
      const quoted = rest.length >= 2 && (rest[0] === '"' || rest[0] === "'") && rest[rest.length - 1] === rest[0];
      if (quoted) throw new PolicyParseError(`expected a check, found ${rest}, which oslo reads as a quoted string`, at + 1);
      tokens.push({ kind: 'check', node: parseCheck(clean, at), text: clean, offset: at });
    }
    for (let i = end; i < rest.length; i++) tokens.push({ kind: ')', text: ')', offset: at + i });
  }
  return tokens;
}

/** Parses a check string as oslo.policy does. An empty string allows everyone, as in oslo. */
export function parseRule(rule: string): CheckNode {
  if (rule === '') return { type: 'always' };
  const tokens = tokenize(rule);
  if (tokens.length === 0) {
    throw new PolicyParseError('expected a check, found only whitespace (write "" to allow everyone, "!" to allow no one)', 1);
  }
  let next = 0;
  const endColumn = rule.length + 1;
  const describe = (t: Token | undefined) => (t ? `"${t.text}"` : 'the end of the string');
  const column = (t: Token | undefined) => (t ? t.offset + 1 : endColumn);

  function parseOr(): CheckNode {
    const checks = [parseAnd()];
    while (tokens[next]?.kind === 'or') {
      next++;
      checks.push(parseAnd());
    }
    return checks.length === 1 ? checks[0] : { type: 'or', checks };
  }
  function parseAnd(): CheckNode {
    const checks = [parseNot()];
    while (tokens[next]?.kind === 'and') {
      next++;
      checks.push(parseNot());
    }
    return checks.length === 1 ? checks[0] : { type: 'and', checks };
  }
  function parseNot(): CheckNode {
    if (tokens[next]?.kind !== 'not') return parseAtom();
    next++;
    return { type: 'not', check: parseNot() };
  }
  function parseAtom(): CheckNode {
    const token = tokens[next];
    if (token?.kind === 'check') {
      next++;
      return token.node;
    }
    if (token?.kind === '(') {
      next++;
      const inner = parseOr();
      const close = tokens[next];
      if (close?.kind !== ')') {
        throw new PolicyParseError(`expected "and", "or" or ")" to close the "(" at column ${token.offset + 1}, found ${describe(close)}`, column(close));
      }
      next++;
      return inner;
    }
    const after = next > 0 ? ` after "${tokens[next - 1].text}"` : '';
    throw new PolicyParseError(`expected a check, "not" or "("${after}, found ${describe(token)}`, column(token));
  }

  const tree = parseOr();
  const extra = tokens[next];
  if (extra) {
    const reason = extra.kind === ')' ? 'found ")" with no "(" open' : `expected "and", "or" or the end of the string, found ${describe(extra)}`;
    throw new PolicyParseError(reason, column(extra));
  }
  return tree;
}

/** One check word: "@", "!", or kind:match. */
function parseCheck(word: string, offset: number): CheckNode {
  if (word === '@') return { type: 'always' };
  if (word === '!') return { type: 'never' };
  const colon = word.indexOf(':');
  if (colon < 0) throw new PolicyParseError(`expected a check (kind:value, "@" or "!"), found "${word}"`, offset + 1);
  const kind = word.slice(0, colon);
  const match = word.slice(colon + 1);
  const matchColumn = offset + colon + 2;
  switch (kind) {
    case 'rule':
      if (!match) throw new PolicyParseError('expected a rule name after "rule:"', matchColumn);
      return { type: 'rule', name: match };
    case 'role':
      if (!match) throw new PolicyParseError('expected a role name after "role:"', matchColumn);
      return { type: 'role', role: parseTemplate(match, matchColumn) };
    case 'http':
    case 'https':
      throw new PolicyParseError(`"${kind}:" checks (asking a remote policy server) are not supported`, offset + 1);
  }
  const literal = pythonLiteral(kind);
  if (literal === undefined && !CREDENTIAL_PATH.test(kind)) {
    throw new PolicyParseError(`expected a credential key (such as project_id) or a literal (True, 'text', 42) before ":", found "${kind}"`, offset + 1);
  }
  const credentialPath = literal === undefined ? kind.split('.') : null;
  if (credentialPath?.some((segment) => PYTHON_KEYWORDS.has(segment))) {
    throw new PolicyParseError(`"${kind}" is not a credential key: it contains a Python keyword, which oslo cannot evaluate`, offset + 1);
  }
  return { type: 'generic', kind, literal: literal ?? null, credentialPath, match: parseTemplate(match, matchColumn) };
}

const CREDENTIAL_PATH = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*$/;
// Words Python's parser rejects as names (literal_eval raises SyntaxError, so oslo would crash on them).
const PYTHON_KEYWORDS = new Set(
  'False None True and as assert async await break class continue def del elif else except finally for from global if import in is lambda nonlocal not or pass raise return try while with yield'.split(' '),
);

/** Python's `match % target`, limited to %(key)s and %%; other formats would raise or print a dict in oslo. */
function parseTemplate(text: string, column: number): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let literal = '';
  for (let i = 0; i < text.length; i++) {
    if (text[i] !== '%') {
      literal += text[i];
      continue;
    }
    if (text[i + 1] === '%') {
      literal += '%';
      i++;
      continue;
    }
    const substitution = /^%\(([^()]*)\)s/.exec(text.slice(i));
    if (!substitution) {
      throw new PolicyParseError(`expected %(name)s or %% after "%" in "${text}"`, column + i);
    }
    if (literal) parts.push(literal);
    literal = '';
    parts.push({ targetKey: substitution[1] });
    i += substitution[0].length - 1;
  }
  if (literal || parts.length === 0) parts.push(literal);
  return parts;
}

const INTEGER = /^[+-]?(?:0(?:_?0)*|[1-9](?:_?[0-9])*|0[xX](?:_?[0-9a-fA-F])+|0[oO](?:_?[0-7])+|0[bB](?:_?[01])+)$/;
const DIGITS = '[0-9](?:_?[0-9])*';
const FLOAT = new RegExp(`^[+-]?(?:(?:${DIGITS})?\\.${DIGITS}(?:[eE][+-]?${DIGITS})?|${DIGITS}\\.(?:[eE][+-]?${DIGITS})?|${DIGITS}[eE][+-]?${DIGITS})$`);

/**
 * str(ast.literal_eval(word)) for the literals a check's left side can hold, or undefined when
 * the word is not one (oslo then reads it as a credential path).
 */
function pythonLiteral(word: string): string | undefined {
  if (word === 'True' || word === 'False' || word === 'None') return word;
  const quoted = /^(?:'([^'\\]*)'|"([^"\\]*)")$/.exec(word);
  if (quoted) return quoted[1] ?? quoted[2];
  if (INTEGER.test(word)) {
    const negative = word.startsWith('-');
    const digits = word.replace(/^[+-]/, '').replaceAll('_', '');
    const value = BigInt(digits);
    return (negative && value !== 0n ? '-' : '') + value.toString();
  }
  if (FLOAT.test(word)) return pythonFloatRepr(Number(word.replaceAll('_', '')));
  return undefined;
}

/** Python's repr of a float: the shortest round-trip digits, scientific below 1e-4 and from 1e16. */
function pythonFloatRepr(x: number): string {
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [mantissa, exponentText] = x.toExponential().split('e');
  const sign = x < 0 ? '-' : '';
  const digits = mantissa.replace('-', '').replace('.', '');
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= 16) {
    const shown = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const magnitude = Math.abs(exponent);
    return `${sign}${shown}e${exponent < 0 ? '-' : '+'}${magnitude < 10 ? '0' : ''}${magnitude}`;
  }
  if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`;
  const whole = digits.slice(0, exponent + 1).padEnd(exponent + 1, '0');
  return `${sign}${whole}.${digits.slice(exponent + 1) || '0'}`;
}

/** The checks at the leaves of a tree (everything but and, or and not), in order of appearance. */
export function* leafChecks(node: CheckNode): Generator<Exclude<CheckNode, { type: 'and' | 'or' | 'not' }>> {
  switch (node.type) {
    case 'and':
    case 'or':
      for (const check of node.checks) yield* leafChecks(check);
      return;
    case 'not':
      yield* leafChecks(node.check);
      return;
    default:
      yield node;
  }
}

/** Every rule name a tree refers to with rule:NAME. */
export function referencedRules(node: CheckNode): string[] {
  const names: string[] = [];
  for (const leaf of leafChecks(node)) if (leaf.type === 'rule') names.push(leaf.name);
  return names;
}
