#!/usr/bin/env bash
# Everything CI runs: type check, lint, then every test tier. Stops at the first failing stage.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== typecheck"; npx tsc -p tsconfig.json --noEmit
echo "== lint"; npx eslint .
node scripts/run-tests.mjs all
