#!/usr/bin/env bash
# Copies the GraphiQL page's assets, at the versions package-lock.json pins, into
# src/http/assets/graphiql, which the binary embeds (GET /graphql in a browser works
# without internet access). `--check` copies nothing and fails when the embedded
# files differ from what the lock file gives: CI runs it, so the committed assets
# are always the pinned packages' own files.
set -euo pipefail
cd "$(dirname "$0")"
out=../../src/http/assets/graphiql

npm ci --no-audit --no-fund --silent

# source in node_modules -> name in $out
files=(
  "graphiql/graphiql.min.js:graphiql.min.js"
  "graphiql/graphiql.min.css:graphiql.min.css"
  "graphiql/LICENSE:LICENSE.graphiql"
  "react/umd/react.production.min.js:react.production.min.js"
  "react/LICENSE:LICENSE.react"
  "react-dom/umd/react-dom.production.min.js:react-dom.production.min.js"
)

status=0
for entry in "${files[@]}"; do
  from="node_modules/${entry%%:*}"
  to="$out/${entry##*:}"
  if [ "${1:-}" = "--check" ]; then
    if ! cmp -s "$from" "$to"; then
      echo "FAIL: $to is not the pinned $from (run tools/graphiql/vendor.sh)" >&2
      status=1
    fi
  else
    cp "$from" "$to"
  fi
done
if [ "${1:-}" = "--check" ] && [ "$status" -eq 0 ]; then
  echo "GraphiQL assets match package-lock.json"
fi
exit "$status"
