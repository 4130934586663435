#!/usr/bin/env bash
# The console in a real browser: Debian's Chromium (installed here when missing),
# driven by Playwright, walks the operator's path against a freshly built server
# (operator-path.mjs) and checks every page with axe-core. Screenshots are kept in
# target/console-screenshots.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=../server.sh
source .ci/server.sh

if ! command -v chromium >/dev/null 2>&1; then
  echo "installing Debian's chromium"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q --no-install-recommends chromium >/dev/null 2>&1 ||
    { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends chromium >/dev/null; }
fi

check_dir=.ci/console
(cd "$check_dir" && npm ci --no-audit --no-fund --silent)

cargo build -q
bin="${CARGO_TARGET_DIR:-target}/debug/freightgate"
shots="$PWD/${CARGO_TARGET_DIR:-target}/console-screenshots"
rm -rf "$shots"

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

cp -r rules "$work/rules"
port="$(free_port)"
receiver_port="$(free_port)"
export DATABASE_URL="sqlite://$work/console.db"
export FREIGHTGATE_LISTEN="127.0.0.1:$port"
export FREIGHTGATE_RULES_DIR="$work/rules"
export FREIGHTGATE_RULES_POLL_MS=200
export FREIGHTGATE_LOG=warn
export FREIGHTGATE_WEBHOOKS_ALLOW_NETWORKS=127.0.0.0/8
# One attempt: a push to a receiver that is down is dead-lettered at once.
export FREIGHTGATE_WEBHOOKS_RETRY_SCHEDULE=0s

key="$("$bin" keys create --business northwind --name operator | tail -n 1)"
"$bin" serve >"$work/server.log" 2>&1 &
server_pid=$!
pids+=("$server_pid")
wait_until_serving "$port" "$server_pid" "$work/server.log"

if ! BASE_URL="http://127.0.0.1:$port" API_KEY="$key" RULES_DIR="$work/rules" \
  RECEIVER_PORT="$receiver_port" FEEDS="$PWD/tests/feeds" SCREENSHOTS="$shots" \
  node "$check_dir/operator-path.mjs"; then
  echo "server log:" >&2
  tail -n 50 "$work/server.log" >&2
  exit 1
fi
