#!/usr/bin/env bash
# Builds the tartan node image with podman: deploy/Containerfile on a Debian 12 base made here
# from the machine's own apt sources (public base images cannot be pulled on every machine).
#
#   scripts/build-image.sh [--tag IMAGE] [--refresh-base]
#
# 1. base: mmdebstrap (minbase + nftables, iproute2, bird2) into a tarball cached under
#    /var/cache/tartan/image-base/<key>.tar, key = sha256 of the suite, the package list, the
#    mmdebstrap options and the apt sources (a rerun with the same inputs reuses it; security
#    updates come in with --refresh-base), imported as localhost/tartan-base:<key>;
# 2. image: dist/tartan and dist/cni/tartan (built first when stale) copied in; nothing runs in a
#    container during the build, so it needs no network (podman build --network none).
# Prints the image reference on stdout; progress goes to stderr.
set -euo pipefail
cd "$(dirname "$0")/.."

TAG=localhost/tartan:$(sed -n 's/^  "version": "\(.*\)",$/\1/p' package.json)
REFRESH=""
while [ $# -gt 0 ]; do
  case "$1" in
    --tag) TAG="$2"; shift 2 ;;
    --refresh-base) REFRESH=1; shift ;;
    *) echo "build-image: unknown argument $1 (use --tag IMAGE, --refresh-base)" >&2; exit 2 ;;
  esac
done

SUITE=bookworm
PKGS=nftables,iproute2,bird2,ca-certificates
SOURCES=/etc/apt/sources.list.d/debian.sources
[ -f "$SOURCES" ] || SOURCES=/etc/apt/sources.list
MMOPTS=(--variant=minbase "--include=$PKGS"
  "--dpkgopt=path-exclude=/usr/share/man/*" "--dpkgopt=path-exclude=/usr/share/doc/*"
  "--dpkgopt=path-exclude=/usr/share/locale/*" "--dpkgopt=path-exclude=/usr/share/info/*")
CACHE=/var/cache/tartan/image-base

for tool in podman mmdebstrap; do
  command -v "$tool" >/dev/null || { echo "build-image: $tool is missing (scripts/ensure-deps.sh installs it)" >&2; exit 1; }
done

KEY=$( { echo "$SUITE"; printf '%s\n' "${MMOPTS[@]}"; cat "$SOURCES"; } | sha256sum | cut -c1-16)
BASE=localhost/tartan-base:$KEY
mkdir -p "$CACHE"
if [ -n "$REFRESH" ]; then
  rm -f "$CACHE/$KEY.tar"
  podman rmi -f "$BASE" >/dev/null 2>&1 || true
fi
if ! podman image exists "$BASE"; then
  if [ ! -s "$CACHE/$KEY.tar" ]; then
    echo "build-image: building the base $SUITE ($PKGS) with mmdebstrap into $CACHE/$KEY.tar" >&2
    tmp="$CACHE/.$KEY.tmp.tar"
    rm -f "$tmp"
    mmdebstrap --quiet --format=tar "${MMOPTS[@]}" "$SUITE" "$tmp" "$SOURCES" >&2
    mv "$tmp" "$CACHE/$KEY.tar"
  fi
  echo "build-image: importing the base as $BASE" >&2
  podman import --quiet "$CACHE/$KEY.tar" "$BASE" >/dev/null
fi

bash scripts/ensure-deps.sh --build

ctx=$(mktemp -d /tmp/tartan-image-ctx.XXXXXX)
trap 'rm -rf "$ctx"' EXIT
mkdir -p "$ctx/rootfs/opt/tartan/cni" "$ctx/rootfs/usr/local/bin"
cp dist/tartan "$ctx/rootfs/opt/tartan/tartan"
cp dist/cni/tartan "$ctx/rootfs/opt/tartan/cni/tartan"
ln -s tartan "$ctx/rootfs/opt/tartan/cni/tartan-ipam"
ln -s /opt/tartan/tartan "$ctx/rootfs/usr/local/bin/tartan"
cp deploy/Containerfile "$ctx/Containerfile"

echo "build-image: building $TAG on $BASE" >&2
podman build --quiet --network none --pull=never --build-arg "BASE=$BASE" -t "$TAG" -f "$ctx/Containerfile" "$ctx" >&2
echo "$TAG"
