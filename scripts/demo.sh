#!/usr/bin/env bash
# npm run demo -> deploy the demo lab into emulated hosts and check it; npm run demo:destroy -> remove it.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
if [ "$(id -u)" -ne 0 ]; then
  echo "cloudnet: the demo creates network namespaces and needs root: sudo npm run ${1:-demo}" >&2
  exit 1
fi
bash scripts/install-deps.sh

case "${1:-deploy}" in
  deploy)
    echo "cloudnet: deploying the demo lab (examples/demo-lab) with cdktf deploy"
    npx cdktf deploy --auto-approve
    echo "cloudnet: checking the lab: web (on h1) pings db (on h2) across the VXLAN segment"
    node bin/cloudnet.js exec demo web -- ping -c 2 -W 2 10.10.0.12
    node bin/cloudnet.js list demo
    cat <<'MSG'

The demo lab is up. Explore it:
  npm run cloudnet -- list demo                       # hosts, guests, namespaces, addresses
  npm run cloudnet -- exec demo web -- ip addr        # any command inside a host or guest
  npm run cloudnet -- exec demo h1 -- bridge fdb      # the VXLAN flood list on host h1
Remove it:
  npm run demo:destroy
MSG
    ;;
  destroy)
    npx cdktf destroy --auto-approve
    echo "cloudnet: the demo lab is removed."
    ;;
  *) echo "usage: scripts/demo.sh [deploy|destroy]" >&2; exit 2 ;;
esac
