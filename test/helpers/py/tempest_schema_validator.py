"""Checks responses against tempest's own response schemas, with tempest's own check.

One JSON request per line on stdin: {"schema": "v3_64.volumes.show_volume", "status": 200,
"headers": {...}, "body": ... or null}; one JSON answer per line on stdout: {"ok": true} or
{"ok": false, "error": "..."}. The schema is a module under
tempest.lib.api_schema.response.volume and an attribute of it.
"""
import importlib
import json
import sys

from tempest.lib.common import rest_client

PACKAGE = 'tempest.lib.api_schema.response.volume'


class Response(dict):
    """What RestClient.validate_response reads: the headers, and the status as an attribute."""

    def __init__(self, status, headers):
        super().__init__({k.lower(): v for k, v in headers.items()})
        self.status = status


def schema_named(name):
    module, _, attribute = name.rpartition('.')
    return getattr(importlib.import_module(f'{PACKAGE}.{module}'), attribute)


def check(request):
    schema = schema_named(request['schema'])
    body = request.get('body')
    # tempest hands the raw (empty) text over when a response has no JSON body.
    rest_client.RestClient.validate_response(
        schema, Response(request['status'], request.get('headers', {})), '' if body is None else body)


def main():
    for line in sys.stdin:
        try:
            check(json.loads(line))
            answer = {'ok': True}
        except Exception as err:  # noqa: BLE001 -- every failure is an answer, never an exit
            answer = {'ok': False, 'error': f'{type(err).__name__}: {err}'}
        sys.stdout.write(json.dumps(answer) + '\n')
        sys.stdout.flush()


if __name__ == '__main__':
    main()
