#!/usr/bin/env bash
# npm run bench -- <name...>: benchmarks in bench/, each printing its figures and a closing JSON line.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
bash scripts/install-deps.sh
exec npx ts-node --transpile-only bench/run.ts "$@"
