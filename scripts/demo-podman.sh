#!/usr/bin/env bash
# Tartan podman demo: two busybox containers started by podman on a tartan network on this host, then a
# ping and a TCP exchange between them. Everything it creates is private and removed on exit:
# podman runs with its own containers.conf, storage and CNI dirs under a temp dir (never
# /etc/containers, /etc/cni or /opt/cni), the bridge is `tartan-demo`, the range 10.213.58.0/24.
# Usage (root, Debian 12): bash scripts/demo-podman.sh
set -euo pipefail
cd "$(dirname "$0")/.."

NET=tartan-demo
BRIDGE=tartan-demo
SUBNET=10.213.58.0/24
GATEWAY=10.213.58.1

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
ok() { printf '   \033[32mok\033[0m  %s\n' "$*"; }
bad() { printf '   \033[31mFAIL\033[0m %s\n' "$*"; }

if [ "$(id -u)" != 0 ]; then
  echo "demo: must run as root (podman attaches containers to a bridge in the host namespace)" >&2
  exit 1
fi

say "dependencies and build"
bash scripts/ensure-deps.sh --build
ok "packages present, dist/tartan and dist/cni/tartan up to date"

# Refuse rather than disturb: the range and the bridge must be unused on this host.
if ip -o route show root "$SUBNET" table all | grep -q . || ip -o route show match "$SUBNET" | grep -v '^default' | grep -q .; then
  echo "demo: $SUBNET is already routed on this host; refusing to touch it" >&2
  exit 1
fi
if ip link show "$BRIDGE" >/dev/null 2>&1; then
  echo "demo: interface $BRIDGE already exists (another demo running?); refusing to touch it" >&2
  exit 1
fi

T=$(mktemp -d /tmp/tartan-demo.XXXXXX)
NFT_EXISTED=0
nft list table inet tartan >/dev/null 2>&1 && NFT_EXISTED=1
export CONTAINERS_CONF="$T/containers.conf"
pm() { podman --root "$T/root" --runroot "$T/runroot" --tmpdir "$T/tmp" "$@"; }

cleanup() {
  local rc=$?
  set +e
  say "cleanup"
  pm rm -f -t 0 demo-a demo-b >/dev/null 2>&1
  ip link del "$BRIDGE" 2>/dev/null
  # Routes inside the demo range only (routed mode leaves none if DEL worked; belt and braces).
  ip -o route show root "$SUBNET" | awk '{print $1}' | while read -r dst; do ip route del "$dst" 2>/dev/null; done
  [ "$NFT_EXISTED" = 1 ] || nft delete table inet tartan 2>/dev/null
  rm -f /var/lib/cni/results/"$NET"-* 2>/dev/null
  if grep -q " $T/" /proc/mounts; then
    echo "   left $T (still mounted)" >&2
  else
    rm -rf "$T"
  fi
  ok "containers, bridge, routes, nft table and temp files removed"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "install tartan into a private CNI dir ($T/bin)"
mkdir -p "$T/bin" "$T/net" "$T/ipam" "$T/tmp" "$T/rootfs/bin"
install -m 0755 dist/cni/tartan "$T/bin/tartan"   # the CNI plugin executable
ln -s tartan "$T/bin/tartan-ipam"
cat >"$T/containers.conf" <<EOF
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$T/events.log"
[network]
network_backend = "cni"
network_config_dir = "$T/net"
cni_plugin_dirs = ["$T/bin", "/usr/lib/cni"]
EOF
# cniVersion 1.0.0 because podman 4.3's libcni cannot read 1.1.0 results; newer runtimes pick 1.1.0.
cat >"$T/net/$NET.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "cniVersions": ["1.0.0", "1.1.0"],
  "name": "$NET",
  "plugins": [{
    "type": "tartan",
    "mode": "bridge",
    "bridge": "$BRIDGE",
    "mtu": 1500,
    "ipMasq": true,
    "ipam": {
      "type": "tartan-ipam",
      "ranges": [[{ "subnet": "$SUBNET", "gateway": "$GATEWAY" }]],
      "routes": [{ "dst": "0.0.0.0/0" }],
      "dataDir": "$T/ipam"
    }
  }]
}
EOF
ok "network $NET: bridge $BRIDGE, $SUBNET, ipMasq"

# A tiny rootfs: static busybox and the applets the demo uses (no images, no registry).
cp /bin/busybox "$T/rootfs/bin/busybox"
for a in sh ip ping nc sleep cat echo; do ln -s busybox "$T/rootfs/bin/$a"; done

say "start two containers with podman"
for c in demo-a demo-b; do
  pm run -d --name "$c" --network "$NET" --ulimit nofile=4096:4096 --ulimit nproc=4096:4096 \
    --rootfs "$T/rootfs" sleep 600 >/dev/null
done
ip_of() { pm exec "$1" ip -4 -o addr show dev eth0 | awk '{print $4}'; }
A=$(ip_of demo-a)
B=$(ip_of demo-b)
printf '   %-8s eth0 %s\n' demo-a "$A" demo-b "$B"
printf '   host     %s %s\n' "$BRIDGE" "$(ip -4 -o addr show dev "$BRIDGE" | awk '{print $4}')"
A=${A%/*}
B=${B%/*}

say "connectivity"
fail=0
if out=$(pm exec demo-b ping -c 3 -W 2 "$A" 2>&1); then
  ok "demo-b -> demo-a ping: $(echo "$out" | grep -E 'packets transmitted')"
else
  bad "demo-b -> demo-a ping"
  echo "$out" | sed 's/^/      /'
  fail=1
fi
pm exec -d demo-a sh -c 'echo "hello from demo-a over tartan" | nc -l -p 7000' >/dev/null
reply=""
for _ in $(seq 1 20); do
  reply=$(pm exec demo-b sh -c "nc -w 2 $A 7000 </dev/null" 2>/dev/null || true)
  [ -n "$reply" ] && break
  sleep 0.2
done
if [ -n "$reply" ]; then
  ok "demo-b -> demo-a tcp/7000: \"$reply\""
else
  bad "demo-b -> demo-a tcp/7000: no answer"
  fail=1
fi
if pm exec demo-a ping -c 1 -W 2 "$B" >/dev/null 2>&1; then ok "demo-a -> demo-b ping"; else
  bad "demo-a -> demo-b ping"
  fail=1
fi

if [ "$fail" = 0 ]; then say "demo passed"; else say "demo FAILED"; fi
exit "$fail"
