#!/usr/bin/env bash
# Hostile clients against a freshly built freightgate (see probe.py): slow bodies
# without a key, 2,000 half-sent headers, and batches of 200,000 documents. Bounded:
# the probe takes about 20 s.
set -euo pipefail
cd "$(dirname "$0")/../.."
source .ci/server.sh

cargo build -q
bin="$(cd "${CARGO_TARGET_DIR:-target}" && pwd)/debug/freightgate"
work="$(mktemp -d)"
port="$(free_port)"
export DATABASE_URL="sqlite://$work/freightgate.db"
export FREIGHTGATE_RULES_DIR="$PWD/rules"
export FREIGHTGATE_LOG=warn
key="$("$bin" keys create --business northwind | tail -n 1)"

FREIGHTGATE_LISTEN="127.0.0.1:$port" FREIGHTGATE_HEADER_READ_TIMEOUT_MS=2000 \
  "$bin" serve >"$work/server.log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
wait_until_serving "$port" "$pid" "$work/server.log"

if ! HEADER_TIMEOUT_SECS=2 timeout 120 python3 .ci/hostile/probe.py "http://127.0.0.1:$port" "$pid" "$key"; then
  echo "--- server log" >&2
  tail -n 50 "$work/server.log" >&2
  exit 1
fi
