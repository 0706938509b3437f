#!/usr/bin/env bash
# Tartan demo, the README's main job: a 3-node cluster in network namespaces on this machine (the
# lab: etcd, an agent per node, the real CNI plugin), a pod on every node, then the pod-to-pod
# connectivity matrix (ping and TCP, every ordered pair). The lab adds nothing to the root
# namespace: its underlay is 198.18.0.0/15 inside its own namespaces (tl-<name>-*), and etcd and
# the agents listen only there. It stays up for you to explore; `--down` removes it at the end
# (CI and tests use that). A lab that fails to come up is removed; the exit status is the matrix's.
# Usage (root, Debian 12): bash scripts/demo.sh [--down] [--backend vxlan|host-gw|cross-subnet] [--lab NAME]
set -euo pipefail
cd "$(dirname "$0")/.."

DOWN=0
BACKEND=vxlan
NAME=tartan
while [ $# -gt 0 ]; do
  case "$1" in
    --down) DOWN=1 ;;
    --backend) BACKEND=${2:?--backend needs a value}; shift ;;
    --lab) NAME=${2:?--lab needs a value}; shift ;;
    -h | --help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "demo: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
ok() { printf '   \033[32mok\033[0m  %s\n' "$*"; }

if [ "$(id -u)" != 0 ]; then
  echo "demo: must run as root (the lab creates network namespaces)" >&2
  exit 1
fi

say "dependencies and build"
bash scripts/ensure-deps.sh --build
ok "packages present, dist/tartan up to date"

tartan=dist/tartan
flag=""  # every command takes --lab (needed only while another lab is up too)
[ "$NAME" = tartan ] || flag=" --lab $NAME"
# A previous demo lab of the same name is replaced: the demo always starts from a fresh cluster.
$tartan lab down --lab "$NAME" >/dev/null

built=0
cleanup() {
  local rc=$?
  # A lab that failed to come up is removed; one that is up but failed the matrix stays (unless
  # --down), because that is when exploring it is most useful.
  if [ "$built" = 0 ] || [ "$DOWN" = 1 ]; then
    say "tear down"
    $tartan lab down --lab "$NAME" || true
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "lab up: 3 nodes, backend $BACKEND"
$tartan lab up --nodes 3 --backend "$BACKEND" --lab "$NAME"

say "pods: one on every node, wired by the tartan CNI plugin (ADD)"
tiers=(front back db)
for i in 1 2 3; do
  $tartan lab pod add "node-$i" "web-$i" --labels "app=web,tier=${tiers[$((i - 1))]}" --lab "$NAME"
done

built=1

say "connectivity matrix (ping and TCP from every pod to every other)"
# The agents program routes as pods appear; give them a few seconds to converge.
status=1
for _ in $(seq 1 20); do
  if $tartan lab matrix --lab "$NAME" --timeout-ms 1500 >/dev/null 2>&1; then
    status=0
    break
  fi
  sleep 1
done
$tartan lab matrix --lab "$NAME" || status=$?

say "NetworkPolicy: only tier=front may reach tier=db on TCP 8080 (examples/policy-db.yaml)"
sed -n '/^apiVersion/,$p' examples/policy-db.yaml | sed 's/^/   /'
$tartan apply -f examples/policy-db.yaml --lab "$NAME"
# web-1 (front) still reaches web-3 (db) over TCP; web-2 (back) no longer does; ping to web-3 is
# not in the policy's ports, so it is dropped too. The matrix exits non-zero: some pairs fail now.
policy_ok=0
for _ in $(seq 1 20); do
  m=$($tartan lab matrix --lab "$NAME" -o json --timeout-ms 1500 2>/dev/null || true)
  if [ "$(echo "$m" | jq -r '[.cells[]? | select(.from == "default/web-2" and .to == "default/web-3") | .tcp] | first')" = "false" ]; then
    policy_ok=1
    break
  fi
  sleep 0.5
done
$tartan lab matrix --lab "$NAME" || true
[ "$policy_ok" = 1 ] || { echo "demo: the policy did not take effect" >&2; status=1; }
say "drops, counted per pod by the node that enforces them"
$tartan policy drops --lab "$NAME" || true

say "explore"
ip2=$($tartan lab ls --lab "$NAME" -o json | jq -r '.pods[] | select(.pod == "default/web-2") | .ips[0]' | cut -d/ -f1)
hint() { printf '   %-62s %s\n' "$1" "$2"; }
hint "dist/tartan lab ls$flag" "nodes, underlay addresses, pods and their IPs"
hint "dist/tartan lab matrix$flag" "the matrix again"
hint "dist/tartan lab exec web-1$flag -- ip route" "any command inside a pod's network namespace"
hint "dist/tartan lab exec web-1$flag -- ping -c 2 $ip2" "web-1 pings web-2"
hint "dist/tartan lab pod add node-2 api$flag --labels app=api" "another pod"
hint "ip netns exec tl-$NAME-node-1 ip route" "a node's routes (pods, peers)"
hint "dist/tartan get networkpolicies$flag -o yaml" "the policy as stored"
hint "dist/tartan policy drops$flag" "drops per pod and direction"
hint "dist/tartan delete -f examples/policy-db.yaml$flag" "remove the policy (matrix all green again)"
hint "dist/tartan lab down$flag" "tear it all down"

if [ "$DOWN" = 0 ]; then
  say "the lab \"$NAME\" is up; remove it with: dist/tartan lab down$flag"
fi
exit "$status"
