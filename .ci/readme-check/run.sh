#!/usr/bin/env bash
# Runs every snippet of README.md and of the API guides in docs/ against a freshly
# built freightgate (see check.py): the tour's and guides' commands and their shown
# output, the signature-verification snippets in Python, Node (CommonJS and ES
# modules), Go and Rust against a real push, the TOML examples, and the production
# commands against a fresh PostgreSQL database.
set -euo pipefail
cd "$(dirname "$0")/../.."

check_dir=.ci/readme-check
(cd "$check_dir" && npm ci --no-audit --no-fund --silent)

# The Python verification snippet needs the standardwebhooks package; .ci/run
# provides it through STANDARDWEBHOOKS_PYTHON, otherwise install it here.
if [ -z "${STANDARDWEBHOOKS_PYTHON:-}" ]; then
  python3 -m venv target/ci-venv
  target/ci-venv/bin/pip install -q --disable-pip-version-check -r .ci/requirements-webhooks.txt
  export STANDARDWEBHOOKS_PYTHON="$PWD/target/ci-venv/bin/python"
fi

# The Go snippet needs a Go toolchain (Debian's golang-go is enough: no modules are
# fetched).
if ! command -v go >/dev/null; then
  echo "installing Go (Debian's golang-go) for the Go verification snippet"
  apt-get install -y -q --no-install-recommends golang-go >/dev/null 2>&1 ||
    { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends golang-go >/dev/null; }
fi

cargo build -q
bin="$(cd "${CARGO_TARGET_DIR:-target}" && pwd)/debug/freightgate"
python3 "$check_dir/check.py" README.md "$bin" "$PWD/$check_dir" \
  "${TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/test}" docs/graphql.md docs/rest.md
