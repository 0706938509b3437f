#!/usr/bin/env bash
# Installs what tartan's build, demo and tests need on Debian 12, only when it is missing; with
# --build also (re)builds dist/tartan and dist/cni/tartan when missing or older than the sources.
# Idempotent; safe to run on every invocation of the README commands and in CI.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PKGS=(iproute2 nftables iptables iputils-ping procps podman runc containernetworking-plugins busybox-static iperf3 etcd-server bird2 jq util-linux openssl curl zsh mmdebstrap chromium)
# frr: zebra + bgpd of `tartan lab up --tor` (the lab starts its own daemons; the system's stay off)
APT_PKGS+=(frr)
missing=()
for p in "${APT_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "ensure-deps: missing Debian packages: ${missing[*]}; run as root (apt-get install) or install them" >&2
    exit 1
  fi
  echo "ensure-deps: installing ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ ! -x node_modules/.bin/bun ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "ensure-deps: installing npm packages (npm ci)" >&2
  npm ci --no-audit --no-fund >/dev/null
fi

# kubectl 1.20 for the stand-in API server's conformance tests, unpacked into .tools/ (not
# installed: the package would collide with an image's own /usr/bin/kubectl).
bash scripts/ensure-kubectl.sh >/dev/null || echo "ensure-deps: could not fetch kubectl 1.20 (kubernetes-client); its tests will be skipped" >&2

if [ "${1:-}" = "--build" ]; then
  stale=""
  for f in dist/tartan dist/cni/tartan; do
    if [ ! -x "$f" ] || [ -n "$(find src deploy/tartan.yaml scripts/build.ts package.json -newer "$f" -print -quit)" ]; then stale=1; fi
  done
  if [ -n "$stale" ]; then
    echo "ensure-deps: building dist/tartan and dist/cni/tartan (npm run build)" >&2
    npm run --silent build >/dev/null
  fi
fi
