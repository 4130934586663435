#!/usr/bin/env bash
# Builds and starts freightgate on a free port with a fresh SQLite database, creates
# an API key, runs the graphql-http server audits against /graphql, and stops the
# server whatever happens.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=../server.sh
source .ci/server.sh

audit_dir=.ci/graphql-audit
(cd "$audit_dir" && npm ci --no-audit --no-fund --silent)

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
export DATABASE_URL="sqlite://$work/audit.db"
export FREIGHTGATE_LISTEN="127.0.0.1:$port"
export FREIGHTGATE_RULES_DIR="$PWD/rules"
export FREIGHTGATE_LOG=warn

key="$("$bin" keys create --business audit --scopes read,write | tail -n 1)"
"$bin" serve >"$work/server.log" 2>&1 &
server_pid=$!

wait_until_serving "$port" "$server_pid" "$work/server.log"

if ! node "$audit_dir/audit.mjs" "http://127.0.0.1:$port/graphql" "$key"; then
  echo "server log:" >&2
  tail -n 50 "$work/server.log" >&2
  exit 1
fi
