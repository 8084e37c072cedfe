"""Reads a subunit v2 stream (tempest run --subunit) from the file named and prints one JSON object:
{test id without its [tags]: {"status": "pass"|"fail"|"skip", "reason": "..."}}. A class whose
setUpClass was skipped or failed appears under "setUpClass (module.Class)", as tempest names it.
"""
import json
import re
import sys

import subunit
import testtools

STATUSES = {'success': 'pass', 'xfail': 'pass', 'skip': 'skip', 'fail': 'fail', 'uxsuccess': 'fail'}


def reason_of(test):
    details = test['details']
    for name in ('reason', 'traceback'):
        if name in details:
            text = details[name].as_text().strip()
            return text if name == 'reason' else text.splitlines()[-1]
    return ''


def main():
    results = {}

    def record(test):
        status = STATUSES.get(test['status'])
        if status is None:
            return
        test_id = re.sub(r'\[.*\]$', '', test['id'])
        results[test_id] = {'status': status, 'reason': reason_of(test) if status != 'pass' else ''}

    with open(sys.argv[1], 'rb') as source:
        stream = subunit.ByteStreamToStreamResult(source, non_subunit_name='stdout')
        result = testtools.StreamToDict(record)
        result.startTestRun()
        try:
            stream.run(result)
        finally:
            result.stopTestRun()
    json.dump(results, sys.stdout, indent=1, sort_keys=True)


if __name__ == '__main__':
    main()
