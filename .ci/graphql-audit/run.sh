#!/usr/bin/env bash
# Builds and starts freightgate on a free port with a fresh SQLite database, creates
# an API key, runs the graphql-http server audits against /graphql, and stops the
# server whatever happens.
set -euo pipefail
cd "$(dirname "$0")/../.."

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

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
export DATABASE_URL="sqlite://$work/audit.db"
export FREIGHTGATE_LISTEN="127.0.0.1:$port"
export FREIGHTGATE_RULES_DIR="$PWD/rules"
export FREIGHTGATE_LOG=warn

key="$("$bin" keys create --business audit --scopes read,write | tail -n 1)"
"$bin" serve >"$work/server.log" 2>&1 &
server_pid=$!

for _ in $(seq 1 100); do
  if curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then
    break
  fi
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "FAIL: the server exited during start-up:" >&2
    cat "$work/server.log" >&2
    exit 1
  fi
  sleep 0.1
done

if ! node "$audit_dir/audit.mjs" "http://127.0.0.1:$port/graphql" "$key"; then
  echo "server log:" >&2
  tail -n 50 "$work/server.log" >&2
  exit 1
fi
