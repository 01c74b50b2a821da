#!/usr/bin/env bash
# npm test -> all four tiers; npm run test:unit -> the tiers that need nothing (unit, synth).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
tier="${1:-all}"

bash scripts/install-deps.sh
npx tsc --noEmit -p tsconfig.json

case "$tier" in
  unit) exec npx jest --selectProjects unit synth ;;
  kernel|e2e|all)
    if [ "$(id -u)" -ne 0 ]; then
      [ "$tier" = all ] && npx jest --selectProjects unit synth
      echo >&2
      echo "cloudnet: the kernel and e2e tiers create network namespaces and need root." >&2
      echo "cloudnet: run them with: sudo npm test   (unit and synth alone: npm run test:unit)" >&2
      exit 1
    fi
    if [ "$tier" = all ]; then exec npx jest; else exec npx jest --selectProjects "$tier"; fi
    ;;
  *) echo "usage: scripts/test.sh [all|unit|kernel|e2e]" >&2; exit 2 ;;
esac
