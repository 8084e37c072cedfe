// Turns a parsed check into a closure once, at load, so a decision on each request is a
// few comparisons: no parsing, no credentials dictionary built, and no strings made
// except where a check glues target values to literal text.

import type { CheckNode, TemplatePart } from './parser.js';

export interface PolicyCredentials {
  userId: string;
  projectId: string | null;
  domainId?: string | null;
  roles: readonly string[];
  isAdmin: boolean;
  isAdminProject: boolean;
  systemScope?: string | null;
}

/** The object of the operation: project_id, user_id, domain_id ... as Cinder passes them. */
export type PolicyTarget = Readonly<Record<string, string | null | undefined>>;

export type CompiledCheck = (target: PolicyTarget, creds: PolicyCredentials) => boolean;

type CredentialValue = string | boolean | null | readonly string[] | undefined;

/**
 * The credentials as oslo.policy sees them: oslo.context's policy values plus Cinder's
 * is_admin, and "system", which oslo's enforcer adds only when a system scope is set.
 * undefined is a key oslo's dictionary would not have.
 */
const CREDENTIALS: Readonly<Record<string, (creds: PolicyCredentials) => CredentialValue>> = {
  user_id: (c) => c.userId,
  project_id: (c) => c.projectId,
  domain_id: (c) => c.domainId ?? null,
  roles: (c) => c.roles,
  is_admin: (c) => c.isAdmin,
  is_admin_project: (c) => c.isAdminProject,
  system_scope: (c) => c.systemScope ?? null,
  system: (c) => (c.systemScope ? c.systemScope : undefined),
};

export const CREDENTIAL_KEYS: readonly string[] = Object.keys(CREDENTIALS);

/** Python's str() of a credential or target value. */
function pythonStr(value: string | boolean | null): string {
  if (value === null) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  return value;
}

/** A target value as `%(key)s` prints it, or undefined where Python would raise KeyError. */
function targetValue(target: PolicyTarget, key: string): string | undefined {
  const value = target[key];
  if (typeof value === 'string') return value;
  // Only an own key set to null is Python's None; anything found on the prototype is not a target key.
  return value === null && Object.hasOwn(target, key) ? 'None' : undefined;
}

type Substitute = (target: PolicyTarget) => string | undefined;

function compileTemplate(parts: readonly TemplatePart[], transform: (text: string) => string = (text) => text): Substitute {
  if (parts.length === 1) {
    const [part] = parts;
    if (typeof part === 'string') {
      const constant = transform(part);
      return () => constant;
    }
    const key = part.targetKey;
    return (target) => {
      const value = targetValue(target, key);
      return value === undefined ? undefined : transform(value);
    };
  }
  return (target) => {
    let text = '';
    for (const part of parts) {
      if (typeof part === 'string') {
        text += part;
        continue;
      }
      const value = targetValue(target, part.targetKey);
      if (value === undefined) return undefined;
      text += value;
    }
    return transform(text);
  };
}

const lower = (text: string) => text.toLowerCase();
const never: CompiledCheck = () => false;
const always: CompiledCheck = () => true;

/** Resolves a rule:NAME reference; called while compiling, the returned check may be filled in later. */
export type RuleResolver = (name: string) => CompiledCheck;

export function compileCheck(node: CheckNode, resolveRule: RuleResolver): CompiledCheck {
  switch (node.type) {
    case 'always':
      return always;
    case 'never':
      return never;
    case 'not': {
      const inner = compileCheck(node.check, resolveRule);
      return (target, creds) => !inner(target, creds);
    }
    case 'and': {
      const checks = node.checks.map((check) => compileCheck(check, resolveRule));
      return (target, creds) => {
        for (const check of checks) if (!check(target, creds)) return false;
        return true;
      };
    }
    case 'or': {
      const checks = node.checks.map((check) => compileCheck(check, resolveRule));
      return (target, creds) => {
        for (const check of checks) if (check(target, creds)) return true;
        return false;
      };
    }
    case 'rule':
      return resolveRule(node.name);
    case 'role': {
      const role = compileTemplate(node.role, lower);
      return (target, creds) => {
        const wanted = role(target);
        if (wanted === undefined) return false;
        for (const held of creds.roles) if (held.toLowerCase() === wanted) return true;
        return false;
      };
    }
    case 'generic':
      return compileGeneric(node, compileTemplate(node.match));
  }
}

function compileGeneric(node: Extract<CheckNode, { type: 'generic' }>, match: Substitute): CompiledCheck {
  if (node.literal !== null) {
    const literal = node.literal;
    return (target) => match(target) === literal;
  }
  const path = node.credentialPath ?? [];
  const read = Object.hasOwn(CREDENTIALS, path[0]) ? CREDENTIALS[path[0]] : undefined;
  // Cinderblock's credentials are flat: a deeper path or an unknown key finds nothing, which oslo answers with false.
  if (!read || path.length > 1) return never;
  return (target, creds) => {
    const wanted = match(target);
    if (wanted === undefined) return false;
    const value = read(creds);
    if (value === undefined) return false;
    if (typeof value === 'object' && value !== null) {
      // oslo compares a list's members one by one.
      for (const member of value) if (member === wanted) return true;
      return false;
    }
    return pythonStr(value) === wanted;
  };
}
