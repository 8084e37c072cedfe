export { Policy, type EffectiveRule, type PolicyCredentials, type PolicyTarget } from './policy.js';
export { PolicyFileError, type PolicyFileProblem } from './file.js';
export { CINDER_RULES, type CinderRule, type EnforcedRule } from './cinder-rules.js';
export { PolicyParseError } from './parser.js';
