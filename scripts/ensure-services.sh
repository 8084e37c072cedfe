#!/usr/bin/env bash
# The database tests run on PostgreSQL as well as SQLite; start it if the machine
# has it installed but it is not running.
set -uo pipefail
reachable() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if ! reachable 5432 && command -v pg_ctlcluster >/dev/null; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
fi
for i in $(seq 1 30); do reachable 5432 && break; sleep 1; done
reachable 5432 || echo "warning: PostgreSQL is not reachable on 127.0.0.1:5432" >&2
exit 0
