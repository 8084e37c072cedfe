#!/usr/bin/env bash
# The database tests run on PostgreSQL as well as SQLite, and the split API and volume
# services talk over RabbitMQ; start either if the machine has it installed but it is
# not running.
set -uo pipefail
reachable() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if ! reachable 5432 && command -v pg_ctlcluster >/dev/null; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
fi
if ! reachable 5672 && command -v rabbitmq-server >/dev/null; then
  rabbitmq-server -detached || true
fi
for i in $(seq 1 60); do reachable 5432 && reachable 5672 && break; sleep 1; done
reachable 5432 || echo "warning: PostgreSQL is not reachable on 127.0.0.1:5432" >&2
reachable 5672 || echo "warning: RabbitMQ is not reachable on 127.0.0.1:5672" >&2
exit 0
