#!/usr/bin/env bash
# Contract test of the REST API: Schemathesis (pinned in requirements.txt) generates
# requests from the served /openapi.json for every operation, including stateful
# sequences along the document's links, and checks every answer: no 5xx, status codes,
# content types, headers and bodies as documented, schema-invalid requests refused,
# resources gone after a cancel stay readable, auth enforced.
#
# `positive_data_acceptance` is left out on purpose: the domain is stricter than a
# JSON Schema can say (control characters, a record's current version in If-Match,
# a shipment id that must exist in the key's business), so some schema-valid
# requests are rightly refused with 4xx.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=../server.sh
source .ci/server.sh

venv=target/ci-venv-schemathesis
if [ ! -x "$venv/bin/schemathesis" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r .ci/schemathesis/requirements.txt
fi

cargo build -q
bin="${CARGO_TARGET_DIR:-target}/debug/freightgate"

work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

port="$(free_port)"
export DATABASE_URL="sqlite://$work/contract.db"
export FREIGHTGATE_LISTEN="127.0.0.1:$port"
export FREIGHTGATE_RULES_DIR="$PWD/rules"
export FREIGHTGATE_LOG=warn
# Thousands of requests from one key: the per-key rate limit would answer 429.
export FREIGHTGATE_RATE_LIMIT_PER_SEC=0

key="$("$bin" keys create --business contract --scopes read,write,webhooks | tail -n 1)"
"$bin" serve >"$work/server.log" 2>&1 &
server_pid=$!
wait_until_serving "$port" "$server_pid" "$work/server.log"

status=0
"$venv/bin/schemathesis" run "http://127.0.0.1:$port/openapi.json" \
  --header "Authorization: Bearer $key" \
  --checks all --exclude-checks positive_data_acceptance \
  --max-examples 50 --seed 20261204 --generation-allow-x00 false \
  --request-timeout 30 --no-color --workers 1 \
  --report junit --report-junit-path "$work/junit.xml" >"$work/out.txt" 2>&1 || status=$?
sed -n '/SUMMARY/,$p' "$work/out.txt"
if [ "$status" -ne 0 ]; then
  cat "$work/out.txt"
  echo "FAIL: Schemathesis found failures (exit $status)" >&2
  tail -n 50 "$work/server.log" >&2
  exit 1
fi
# A run that generated nothing is not a pass.
python3 - "$work/junit.xml" <<'PY'
import sys
import xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suites = [root] if root.tag == "testsuite" else list(root)
tests = sum(int(s.get("tests", 0)) for s in suites)
failures = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
print(f"schemathesis: {tests} operations tested, {failures} failed")
if tests < 39 or failures:
    sys.exit("FAIL: expected every one of the 39 REST operations tested without failure")
PY
if grep -q "request failed\|panicked" "$work/server.log"; then
  grep "request failed\|panicked" "$work/server.log" | head -n 20 >&2
  echo "FAIL: the server logged a failed request" >&2
  exit 1
fi
