#!/usr/bin/env bash
# Packs the library as npm would publish it (prepack builds dist/, postpack removes it) into
# .pack/cdktf-cloudnet.tgz, the tarball examples/team-repo and the package e2e test install.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .pack
rm -f .pack/*.tgz
file=$(npm pack --silent --pack-destination .pack | tail -1)
mv ".pack/$file" .pack/cdktf-cloudnet.tgz
echo "cloudnet: packed .pack/cdktf-cloudnet.tgz ($(du -k .pack/cdktf-cloudnet.tgz | cut -f1) kB)"
