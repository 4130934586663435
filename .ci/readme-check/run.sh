#!/usr/bin/env bash
# Runs every snippet of README.md against a freshly built freightgate (see check.py):
# the tour's commands and their shown output, the signature-verification snippets in
# Python and Node against a real push, the TOML examples, and the production
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

cargo build -q
bin="$(cd "${CARGO_TARGET_DIR:-target}" && pwd)/debug/freightgate"
python3 "$check_dir/check.py" README.md "$bin" "$PWD/$check_dir" \
  "${TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/test}"
