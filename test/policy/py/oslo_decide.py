#!/usr/bin/python3
"""Decides policy cases with the real oslo.policy, for comparison with Cinderblock's engine.

Reads JSON on stdin:
  {"policies": [{"rules": {name: check}, "cases": [{"rule", "creds", "target"}]}],
   "parses": [check string, ...]}
where creds are Cinderblock's PolicyCredentials (camelCase). Writes JSON on stdout:
  {"decisions": [[true|false|"error: ..."]], "parses": [true|false]}
Credentials go through oslo.context's RequestContext with Cinder's to_policy_values
(which adds is_admin), and rules through oslo.policy's Enforcer, as in Cinder.
"""

import json
import logging
import sys

from oslo_config import cfg
from oslo_context import context
from oslo_policy import _parser
from oslo_policy import policy

# oslo logs every rule it cannot parse; the parse results are reported instead.
logging.disable(logging.CRITICAL)


class CinderContext(context.RequestContext):
    def to_policy_values(self):
        values = super().to_policy_values()
        values['is_admin'] = self.is_admin
        return values


def make_context(creds):
    return CinderContext(
        user_id=creds['userId'],
        project_id=creds['projectId'],
        domain_id=creds.get('domainId'),
        roles=list(creds['roles']),
        is_admin=creds['isAdmin'],
        is_admin_project=creds['isAdminProject'],
        system_scope=creds.get('systemScope'),
    )


def decide(enforcer, case):
    try:
        return bool(enforcer.enforce(case['rule'], case['target'], make_context(case['creds'])))
    except Exception as err:  # reported, so the comparing test can name the case
        return 'error: %s: %s' % (type(err).__name__, err)


def parses(rule):
    """Whether oslo's parser reduces the string to one check (else it fails closed)."""
    if not rule:
        return True
    state = _parser.ParseState()
    for token, value in _parser._parse_tokenize(rule):
        state.shift(token, value)
    return len(state.values) == 1 and state.tokens[0] in ('check', 'and_expr', 'or_expr')


def main():
    request = json.load(sys.stdin)
    conf = cfg.ConfigOpts()
    conf([], default_config_files=[])
    decisions = []
    for entry in request.get('policies', []):
        enforcer = policy.Enforcer(conf, use_conf=False)
        enforcer.set_rules(policy.Rules.from_dict(entry['rules']), overwrite=True, use_conf=False)
        decisions.append([decide(enforcer, case) for case in entry['cases']])
    json.dump({'decisions': decisions, 'parses': [parses(r) for r in request.get('parses', [])]}, sys.stdout)


if __name__ == '__main__':
    main()
