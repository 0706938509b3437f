#!/usr/bin/env bash
# Puts Debian's kubectl 1.20 (package kubernetes-client) into .tools/kubectl-1.20/ without
# installing the package: it would collide with a /usr/bin/kubectl some images already ship
# (Google Cloud CLI's dispatcher). `apt-get download` + `dpkg -x` need no root and touch
# nothing outside the tools dir. The kubectl conformance tests of the test API server
# (src/lab/kube-apiserver/) use it; they skip with a reason when it is absent.
# Idempotent: prints the kubectl path. Usage: bash scripts/ensure-kubectl.sh
set -euo pipefail
cd "$(dirname "$0")/.."
dest=.tools/kubectl-1.20
bin=$dest/usr/bin/kubectl
if [ -x "$bin" ]; then
  echo "$PWD/$bin"
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && apt-get download -qq kubernetes-client >/dev/null 2>&1) || {
  # A fresh machine may have no package lists yet; only root can fetch them.
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && (cd "$tmp" && apt-get download -qq kubernetes-client >/dev/null); else exit 1; fi
}
mkdir -p "$dest"
dpkg -x "$tmp"/kubernetes-client_*.deb "$dest"
"$bin" version --client >/dev/null
echo "$PWD/$bin"
