#!/usr/bin/env bash
# Runs the Postman collection (postman/) with newman, twice, against a freshly built
# freightgate on a free port with a fresh SQLite database, a key made with the CLI and
# a local webhook receiver. Fails on any failed assertion or script error, and when
# fewer assertions ran than the collection holds (newman exits 0 when nothing ran).
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=../server.sh
source .ci/server.sh

# Every pm.test in the collection runs exactly once per pass (polling requests
# assert only on their last pass). Raise this when adding tests.
MIN_ASSERTIONS=151
MIN_REQUESTS=78

newman_dir=.ci/newman
(cd "$newman_dir" && npm ci --no-audit --no-fund --silent)

cargo build -q
bin="${CARGO_TARGET_DIR:-target}/debug/freightgate"

work="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

port="$(free_port)"
receiver_port="$(free_port)"

export DATABASE_URL="sqlite://$work/newman.db"
export FREIGHTGATE_LISTEN="127.0.0.1:$port"
export FREIGHTGATE_RULES_DIR="$PWD/rules"
export FREIGHTGATE_LOG=warn
# The receiver listens on loopback, which the SSRF guard refuses unless allowed.
export FREIGHTGATE_WEBHOOKS_ALLOW_NETWORKS=127.0.0.0/8

# A partner API for the pull source folder: a static page of consignments, and the
# example source pointed at it (its schedule off: the collection runs it).
partner_port="$(free_port)"
mkdir -p "$work/partner" "$work/sources"
cp tests/feeds/pull/pallet-network-page.json "$work/partner/consignments.json"
python3 -m http.server "$partner_port" --bind 127.0.0.1 --directory "$work/partner" \
  >"$work/partner.log" 2>&1 &
pids+=($!)
sed -e "s#https://api.pallet-network.example/v1/depots/312/consignments#http://127.0.0.1:$partner_port/consignments.json#" \
  examples/sources/pallet-network.toml >"$work/sources/pallet-network.toml"
export FREIGHTGATE_SOURCES_DIR="$work/sources"
export FREIGHTGATE_SOURCES_SCHEDULER=false
export PALLET_NETWORK_TOKEN=newman-demo-token

# A partner for the outbound example: a second receiver, and the pallet network's
# tracking target pointed at it (the yard check-in's milestone goes there).
partner_receiver_port="$(free_port)"
mkdir -p "$work/outbound"
sed -e "s#https://api.pallet-network.example#http://127.0.0.1:$partner_receiver_port#" \
  examples/outbound/pallet-network-milestones.toml >"$work/outbound/pallet-network-milestones.toml"
export FREIGHTGATE_OUTBOUND_DIR="$work/outbound"
export PALLET_NETWORK_API_KEY=newman-partner-key
python3 tools/webhook_receiver.py --port "$partner_receiver_port" --log "$work/partner-pushes.jsonl" \
  >"$work/partner-receiver.log" 2>&1 &
pids+=($!)

key="$("$bin" keys create --business northwind | tail -n 1)"
python3 tools/webhook_receiver.py --port "$receiver_port" --log "$work/pushes.jsonl" \
  >"$work/receiver.log" 2>&1 &
pids+=($!)
"$bin" serve >"$work/server.log" 2>&1 &
server_pid=$!
pids+=("$server_pid")

wait_until_serving "$port" "$server_pid" "$work/server.log"

# Role-bound keys for the "Roles and trips" folder: each acts for a party, which must
# exist first.
for party in NEWMAN-CUSTOMER:CUSTOMER NEWMAN-HAULIER:SUBCONTRACTOR; do
  curl -sf -o /dev/null -X PUT -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
    -d "{\"role\": \"${party#*:}\"}" "http://127.0.0.1:$port/v1/parties/${party%%:*}"
done
customer_key="$("$bin" keys create --business northwind --role customer --party NEWMAN-CUSTOMER \
  --name newman-customer | tail -n 1)"
subcontractor_key="$("$bin" keys create --business northwind --role subcontractor \
  --party NEWMAN-HAULIER --name newman-haulier | tail -n 1)"

newman="$newman_dir/node_modules/.bin/newman"
# Twice against the same server and database: the collection must not collide with
# what an earlier run created.
for pass in 1 2; do
  report="$work/report-$pass.json"
  status=0
  "$newman" run postman/freightgate.postman_collection.json \
    --environment postman/local.postman_environment.json \
    --env-var "base_url=http://127.0.0.1:$port" \
    --env-var "api_key=$key" \
    --env-var "customer_key=$customer_key" \
    --env-var "subcontractor_key=$subcontractor_key" \
    --env-var "receiver_url=http://127.0.0.1:$receiver_port/hooks" \
    --reporters cli,json --reporter-json-export "$report" \
    --color off --timeout-request 30000 || status=$?
  if ! python3 - "$report" "$MIN_ASSERTIONS" "$MIN_REQUESTS" "$pass" <<'EOF'; then
import json, sys
report, min_assertions, min_requests, run = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
stats = json.load(open(report))["run"]["stats"]
failures = json.load(open(report))["run"]["failures"]
assertions, requests = stats["assertions"], stats["requests"]
print(f"newman pass {run}: {requests['total']} requests, {assertions['total']} assertions, "
      f"{assertions['failed']} failed, {len(failures)} failures in all")
problems = []
if failures or assertions["failed"] or stats["testScripts"]["failed"] or stats["prerequestScripts"]["failed"]:
    problems.append("assertions or scripts failed")
if assertions["total"] < min_assertions:
    problems.append(f"only {assertions['total']} assertions ran, expected at least {min_assertions}")
if requests["total"] < min_requests:
    problems.append(f"only {requests['total']} requests ran, expected at least {min_requests}")
for problem in problems:
    print("FAIL:", problem, file=sys.stderr)
sys.exit(1 if problems else 0)
EOF
    status=1
  fi
  if [ "$status" -ne 0 ]; then
    echo "server log:" >&2
    tail -n 50 "$work/server.log" >&2
    exit 1
  fi
done

# The pushes the webhook requests caused reached the receiver, signed.
python3 - "$work/pushes.jsonl" <<'EOF'
import json, sys
import os
pushes = [json.loads(line) for line in open(sys.argv[1])] if os.path.exists(sys.argv[1]) else []
headers = [{k.lower(): v for k, v in p["headers"].items()} for p in pushes]
signed = [h for h in headers if h.get("webhook-signature", "").startswith("v1,")]
print(f"receiver took {len(pushes)} pushes, {len(signed)} signed")
if len(signed) < 6:
    sys.exit("FAIL: expected at least 3 signed pushes per pass at the receiver")
EOF

# The outbound target's requests reached the partner, in its format, with its key.
python3 - "$work/partner-pushes.jsonl" <<'EOF'
import json, os, sys
pushes = [json.loads(line) for line in open(sys.argv[1])] if os.path.exists(sys.argv[1]) else []
keyed = [p for p in pushes if {k.lower(): v for k, v in p["headers"].items()}.get("x-api-key") == "newman-partner-key"]
print(f"partner took {len(pushes)} requests, {len(keyed)} with its API key")
if not keyed:
    sys.exit("FAIL: expected the outbound example's requests at the partner")
EOF
