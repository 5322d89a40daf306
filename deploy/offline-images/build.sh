#!/usr/bin/env bash
# Builds local stand-ins for the images compose.yaml pulls, for machines that cannot reach Docker
# Hub: a Debian bookworm root (debootstrap), then nats, postgres, prometheus and the node base of
# deploy/Dockerfile from Debian's packages and this machine's node. Where the official images can
# be pulled, do not run this: compose uses them unchanged. An image that exists is kept (reused).
#   deploy/offline-images/build.sh          # needs root, debootstrap and a running dockerd
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
docker=${DOCKER:-/usr/bin/docker}
base=jetcel-offline/bookworm:latest
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
have() { "$docker" image inspect "$1" >/dev/null 2>&1; }
timed() {
  local started=$SECONDS
  "$@"
  echo "offline-images: $* took $((SECONDS - started)) s"
}

import_base() {
  local root
  root=$(mktemp -d /var/tmp/jetcel-rootfs.XXXXXX)
  debootstrap --variant=minbase bookworm "$root" "$mirror" >/dev/null
  tar -C "$root" -c . | "$docker" import - "$base" >/dev/null
  rm -rf "$root"
}

build() { # tag dockerfile [context]
  local context=${3:-$here}
  DOCKER_BUILDKIT=0 "$docker" build -q --build-arg "BASE=$base" -t "$1" -f "$here/$2" "$context" >/dev/null
}

node_context() {
  local dir
  dir=$(mktemp -d /var/tmp/jetcel-node.XXXXXX)
  cp "$(command -v node)" "$dir/node"
  cp -r "$(dirname "$(readlink -f "$(command -v npm)")")/.." "$dir/npm"
  cp /etc/ssl/certs/ca-certificates.crt "$dir/"
  build node:20.19-bookworm-slim node.Dockerfile "$dir"
  rm -rf "$dir"
}

have "$base" || timed import_base
have nats:2.9.10-alpine || timed build nats:2.9.10-alpine nats.Dockerfile
have postgres:15.8 || timed build postgres:15.8 postgres.Dockerfile
have prom/prometheus:v2.53.3 || timed build prom/prometheus:v2.53.3 prometheus.Dockerfile
have node:20.19-bookworm-slim || timed node_context
echo "offline-images: ready"
