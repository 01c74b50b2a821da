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
    node bin/cloudnet.js deploy .
    cn() { node bin/cloudnet.js "$@"; }
    check() { local what=$1; shift; if "$@" >/dev/null 2>&1; then echo "  ok   $what"; else echo "  FAIL $what"; failed=1; fi; }
    failed=0
    echo "cloudnet: checking the demo lab with real packets"
    check "web (h1) pings db (h2) across the VXLAN segment" cn exec demo web -- ping -c 1 -W 2 10.10.0.12
    check "web reaches the internet through blue's NAT router" cn exec demo web -- ping -c 1 -W 2 198.18.0.254
    # The reply must come from web behind the router (TTL 62), not from h1, which holds the address (TTL 64).
    check "the internet reaches web at its floating IP 198.18.0.100" bash -c 'node bin/cloudnet.js exec demo internet -- ping -c 1 -W 2 198.18.0.100 | grep -q "ttl=62 "'
    # The same ping from 10.10.0.11 reaches db from blue's web (the first check), and not from red1.
    check "red1 (red tenant, same address as web) cannot reach blue's db" bash -c '! node bin/cloudnet.js exec demo red1 -- ping -c 1 -W 1 10.10.0.12'
    node bin/cloudnet.js list demo
    [ "$failed" = 0 ] || { echo "cloudnet: a check failed" >&2; exit 1; }
    cat <<'MSG'

The demo lab is up. Explore it:
  npm run cloudnet -- list demo                       # hosts, guests, namespaces, addresses
  npm run cloudnet -- exec demo web -- ip addr        # any command inside a host or guest
  npm run cloudnet -- exec demo h1 -- bridge fdb      # the VXLAN flood list on host h1
  npm run cloudnet -- exec demo router.blue-app -- iptables -t nat -S   # blue's router
  npm run cloudnet -- verify demo                     # the live state against what the lab rendered
Remove it:
  npm run demo:destroy
MSG
    ;;
  destroy)
    node bin/cloudnet.js destroy .
    echo "cloudnet: the demo lab is removed."
    ;;
  *) echo "usage: scripts/demo.sh [deploy|destroy]" >&2; exit 2 ;;
esac
