#!/usr/bin/env bash
# Packs the library as npm would publish it, for a platform:
#   bash scripts/pack.sh [cdktf]  -> .pack/cdktf-cloudnet.tgz (prepack builds dist/, postpack removes it);
#                                    examples/team-repo and the package e2e test install it
#   bash scripts/pack.sh cdktn    -> .pack/cdktn-cloudnet.tgz, the same build with its imports of cdktf
#                                    rewritten to cdktn (flavours/cdktn/build.js)
set -euo pipefail
cd "$(dirname "$0")/.."
flavour="${1:-cdktf}"
mkdir -p .pack
case "$flavour" in
  cdktf)
    rm -f .pack/cdktf-cloudnet-*.tgz .pack/cdktf-cloudnet.tgz
    file=$(npm pack --silent --pack-destination .pack | tail -1)
    ;;
  cdktn)
    # Its own build directory, not dist/: the cdktf pack (prepack/postpack) may run at the same time.
    rm -rf .pack/cdktn .pack/cdktn-build .pack/cdktn-cloudnet-*.tgz .pack/cdktn-cloudnet.tgz
    trap 'rm -rf .pack/cdktn .pack/cdktn-build' EXIT
    npx tsc -p tsconfig.build.json --outDir .pack/cdktn-build
    node flavours/cdktn/build.js .pack/cdktn-build .pack/cdktn
    file=$(npm pack --silent --pack-destination .pack ./.pack/cdktn | tail -1)
    ;;
  *) echo "usage: scripts/pack.sh [cdktf|cdktn]" >&2; exit 2 ;;
esac
mv ".pack/$file" ".pack/$flavour-cloudnet.tgz"
echo "cloudnet: packed .pack/$flavour-cloudnet.tgz ($(du -k ".pack/$flavour-cloudnet.tgz" | cut -f1) kB)"
