// `cinderblock policy`: the policy in force, printed as a policy file would hold it, so an
// operator can redirect it to a file, edit it and start the service with it.

import { CINDER_RULES, Policy, type EffectiveRule } from '../policy/index.js';

const CINDER_CHECK = new Map<string, string>(CINDER_RULES.map((rule) => [rule.name, rule.check]));
const GUARDS = new Map<string, string>(CINDER_RULES.map((rule) => [rule.name, rule.guards]));

function origin(rule: EffectiveRule): string {
  const cinderCheck = CINDER_CHECK.get(rule.name);
  if (cinderCheck === undefined) return 'defined in the policy file, for rule: checks to use';
  if (rule.source === 'default') return 'default';
  return rule.check === cinderCheck ? 'set in the policy file, same as the default' : `overridden (default: ${JSON.stringify(cinderCheck)})`;
}

/** Lines for one rule: a comment saying where it came from, then the rule itself. */
function render(rule: EffectiveRule): string[] {
  const aliasOnly = !CINDER_CHECK.has(rule.name);
  const notes = [origin(rule)];
  if (!rule.enforced && !aliasOnly) notes.push('not enforced: no Cinderblock API checks it yet');
  const guards = GUARDS.get(rule.name);
  const entry = `${JSON.stringify(rule.name)}: ${JSON.stringify(rule.check)}`;
  // A default that nothing here checks is left commented out, as oslo's sample files do,
  // so a file made from this output loads without a warning for each of them.
  const dormant = !rule.enforced && !aliasOnly && rule.source === 'default';
  return [`# ${notes.join('; ')}.${guards ? ` ${guards}` : ''}`, dormant ? `#${entry}` : entry];
}

export async function policyCommand(opts: { policyFile?: string }): Promise<void> {
  let policy: Policy;
  if (opts.policyFile) {
    const loaded = Policy.fromFile(opts.policyFile);
    for (const warning of loaded.warnings) process.stderr.write(`warning: ${warning}\n`);
    policy = loaded.policy;
  } else {
    policy = Policy.defaults();
  }
  const source = opts.policyFile ? `Cinder 21 (Zed) defaults overridden by ${opts.policyFile}` : 'Cinder 21 (Zed) defaults';
  const lines = [
    `# Cinderblock's policy in force: ${source}, with new defaults enforced.`,
    '# Rule names and check strings are oslo.policy\'s; a line starting with "#" is only a comment.',
    '',
  ];
  for (const rule of policy.effectiveRules()) lines.push(...render(rule), '');
  process.stdout.write(lines.join('\n'));
}
