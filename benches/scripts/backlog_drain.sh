#!/usr/bin/env bash
# backlog_drain.sh BIN N: N orders accepted on PostgreSQL while delivery is off, then
# one server with delivery on drains their `order.created` pushes to one endpoint
# (tools/webhook_receiver.py). Prints the time to drain and the lease warnings the
# server logged. The receiver is single-process Python: it bounds the drain rate, so
# this is a check of the dispatcher's behaviour, not a throughput figure.
#
#   bash benches/scripts/backlog_drain.sh target/release/freightgate 10000
#
# Needs PostgreSQL at 127.0.0.1:5432 (user postgres, trust) and ports 18080-18081.
set -euo pipefail
BIN=$(realpath "$1"); N=$2; cd "$(dirname "$0")/../.."
DB=drain_$RANDOM
psql -q -h 127.0.0.1 -U postgres -d test -c "create database $DB"
export DATABASE_URL=postgres://postgres@127.0.0.1:5432/$DB FREIGHTGATE_LISTEN=127.0.0.1:18080 \
  FREIGHTGATE_RULES_DIR=$PWD/rules FREIGHTGATE_LOG=warn FREIGHTGATE_WEBHOOKS_ALLOW_NETWORKS=127.0.0.0/8 \
  FREIGHTGATE_RATE_LIMIT_PER_SEC=0
KEY=$($BIN keys create --business northwind | tail -1)
rm -f /tmp/drain-pushes.jsonl
python3 tools/webhook_receiver.py --port 18081 --log /tmp/drain-pushes.jsonl > /dev/null 2>&1 &
RP=$!
FREIGHTGATE_WEBHOOKS_DISPATCHER=false $BIN serve 2> /tmp/drain-server0.log &
SP=$!
trap 'kill $SP $RP 2>/dev/null; sleep 1; psql -q -h 127.0.0.1 -U postgres -d test -c "drop database $DB with (force)"' EXIT
for i in $(seq 50); do curl -sf http://127.0.0.1:18080/readyz >/dev/null && break; sleep 0.2; done
EP=$(curl -s -X POST -H "Authorization: Bearer $KEY" -H 'content-type: application/json' \
  -d '{"url":"http://127.0.0.1:18081/hooks","event_types":["order.created"]}' http://127.0.0.1:18080/v1/webhooks/endpoints \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
seq $N | xargs -P 16 -I{} curl -s -o /dev/null -X POST -H "Authorization: Bearer $KEY" -H 'content-type: application/json' \
  -d '{"order_number":"DR-{}","facility":"rotterdam-dc","items":[{"sku":"A","quantity":1}]}' http://127.0.0.1:18080/v1/orders
kill $SP; wait $SP 2>/dev/null || true
$BIN serve 2> /tmp/drain-server.log &
SP=$!
start=$(date +%s.%N)
for i in $(seq 600); do
  n=$( [ -f /tmp/drain-pushes.jsonl ] && wc -l < /tmp/drain-pushes.jsonl || echo 0)
  [ "$n" -ge "$N" ] && break; sleep 0.2
done
end=$(date +%s.%N)
echo "delivered $n of $N in $(python3 -c "print(round($end-$start,2))") s; lease warnings: $(grep -c 'taken over' /tmp/drain-server.log || true)"
