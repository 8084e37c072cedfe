// The policy in force: Cinder's defaults, overridden by the operator's file, every rule
// parsed and compiled once when the policy is built.

import { CINDER_RULES, type EnforcedRule } from './cinder-rules.js';
import { compileCheck, type CompiledCheck, type PolicyCredentials, type PolicyTarget } from './evaluate.js';
import { loadPolicyFile, type DefaultRule } from './file.js';
import { parseRule, type CheckNode } from './parser.js';

export type { PolicyCredentials, PolicyTarget } from './evaluate.js';

export interface EffectiveRule {
  name: string;
  check: string;
  source: 'default' | 'file';
  enforced: boolean;
}

interface BuildRule extends EffectiveRule {
  tree: CheckNode;
}

let cinderDefaults: ReadonlyMap<string, DefaultRule & { check: string }> | undefined;

function defaults(): ReadonlyMap<string, DefaultRule & { check: string }> {
  cinderDefaults ??= new Map(CINDER_RULES.map((rule) => [rule.name, { check: rule.check, tree: parseRule(rule.check), enforced: rule.enforced }]));
  return cinderDefaults;
}

export class Policy {
  readonly #rules: readonly EffectiveRule[];
  readonly #checks: ReadonlyMap<string, CompiledCheck>;

  private constructor(rules: readonly BuildRule[]) {
    this.#rules = rules.map(({ name, check, source, enforced }) => ({ name, check, source, enforced }));
    const trees = new Map(rules.map((rule) => [rule.name, rule.tree]));
    const checks = new Map<string, CompiledCheck>();
    const compiling = new Set<string>();
    // A rule: reference becomes the referenced rule's own closure, compiled first; the file
    // loader has already refused cycles and references to nothing.
    const compiled = (name: string): CompiledCheck => {
      const done = checks.get(name);
      if (done) return done;
      const tree = trees.get(name);
      if (!tree || compiling.has(name)) throw new Error(`policy rule "${name}" is undefined or refers back to itself`);
      compiling.add(name);
      const check = compileCheck(tree, compiled);
      compiling.delete(name);
      checks.set(name, check);
      return check;
    };
    for (const rule of rules) compiled(rule.name);
    this.#checks = checks;
  }

  /** Cinder's rules as Cinder 21 ships them, with new defaults enforced. */
  static defaults(): Policy {
    return new Policy([...defaults()].map(([name, rule]) => ({ name, ...rule, source: 'default' as const })));
  }

  /** Cinder's defaults overridden by a policy file. Throws PolicyFileError; the warnings are for the caller to log. */
  static fromFile(path: string): { policy: Policy; warnings: string[] } {
    const cinder = defaults();
    const { rules: fileRules, warnings } = loadPolicyFile(path, cinder);
    const fromFile = new Map(fileRules.map((rule) => [rule.name, rule]));
    const rules: BuildRule[] = [...cinder].map(([name, rule]) => {
      const override = fromFile.get(name);
      return override
        ? { name, check: override.check, tree: override.tree, source: 'file', enforced: rule.enforced }
        : { name, check: rule.check, tree: rule.tree, source: 'default', enforced: rule.enforced };
    });
    for (const rule of fileRules) {
      if (!cinder.has(rule.name)) rules.push({ name: rule.name, check: rule.check, tree: rule.tree, source: 'file', enforced: false });
    }
    return { policy: new Policy(rules), warnings };
  }

  allows(rule: EnforcedRule, target: PolicyTarget, creds: PolicyCredentials): boolean {
    const check = this.#checks.get(rule);
    if (!check) throw new Error(`"${rule}" is not a policy rule`);
    return check(target, creds);
  }

  /** Effective rules in Cinder's name order, with where each came from; rules only the file defines come last. */
  effectiveRules(): EffectiveRule[] {
    return this.#rules.map((rule) => ({ ...rule }));
  }
}
