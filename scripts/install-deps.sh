#!/usr/bin/env bash
# Installs what the project needs, only what is missing: npm packages (from package-lock.json)
# and, as root, the Debian packages the kernel and e2e tiers use.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(iptables ipset nftables iproute2 iperf3 ethtool openvswitch-switch bird2 openssh-server sudo iputils-ping xsltproc tcpdump)

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "cloudnet: installing npm packages (npm ci)"
  npm ci --no-audit --no-fund
fi
# The cdktn tiers' project: cdktn, cdktn-cli and Node 22 from the registry, kept in that folder.
if [ ! -d flavours/cdktn/node_modules ] || [ flavours/cdktn/package-lock.json -nt flavours/cdktn/node_modules/.package-lock.json ]; then
  echo "cloudnet: installing the cdktn flavour's packages and Node 22 into flavours/cdktn (npm ci)"
  (cd flavours/cdktn && npm ci --no-audit --no-fund --loglevel=error)
fi
# The cdktn e2e test installs the packed cdktn-cloudnet offline next to those, and npm resolves its
# peers from the registry's metadata, which `npm ci` does not keep: put it in npm's cache now.
for peer in cdktn constructs; do
  version=$(node -p "require('./flavours/cdktn/package.json').devDependencies['$peer']")
  npm view --prefer-offline --loglevel=error "$peer@$version" version >/dev/null
done

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "cloudnet: missing Debian packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})" >&2
  else
    echo "cloudnet: installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi
