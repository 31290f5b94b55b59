#!/usr/bin/env bash
# Build the o2ims-replay images with podman, on a machine that may have no registry access:
#   deploy/container/images.sh base     the base image (Debian bookworm + python3, made with debootstrap), once
#   deploy/container/images.sh wheels   the project's wheel and its dependencies' wheels, into build/wheels/
#   deploy/container/images.sh build    both images (base and wheels first); the default
# Settings (environment): IMAGE_BASE (a base with python3 and venv; default: the debootstrap one, built when
# missing), IMAGE_PREFIX (default localhost/o2ims-replay), IMAGE_TAG (default: the package version),
# PODMAN (default: podman --runtime runc).
set -euo pipefail
cd "$(dirname "$0")/../.."

export CONTAINERS_CONF="${CONTAINERS_CONF:-$PWD/deploy/container/containers.conf}"
PODMAN="${PODMAN:-podman --runtime runc}"
DEBIAN_BASE=localhost/o2replay-debian-python:bookworm
IMAGE_BASE="${IMAGE_BASE:-$DEBIAN_BASE}"
IMAGE_PREFIX="${IMAGE_PREFIX:-localhost/o2ims-replay}"
PYTHON="${PYTHON:-.venv/bin/python}"

base() {
  # The base image is kept in podman's own storage (outside the checkout), so it is made once per machine.
  if [ "$IMAGE_BASE" != "$DEBIAN_BASE" ] || $PODMAN image exists "$DEBIAN_BASE"; then
    return 0
  fi
  echo "images: making $DEBIAN_BASE with debootstrap (once per machine, a few minutes)"
  local rootfs
  rootfs="$(mktemp -d /var/tmp/o2replay-rootfs.XXXXXX)"
  trap 'rm -rf "$rootfs"' RETURN
  debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates bookworm "$rootfs" \
    >/dev/null
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" -c . | $PODMAN import -q --change 'CMD ["python3"]' - "$DEBIAN_BASE" >/dev/null
}

wheels() {
  # Built on the host (binary wheels must fit the image's Python: Debian bookworm's is 3.11) and
  # installed offline in the image. The folder is rebuilt each time, so no stale version slips in.
  rm -rf build/wheels
  "$PYTHON" -m pip wheel -q --disable-pip-version-check . -w build/wheels
}

build() {
  base
  wheels
  local image tag
  tag="${IMAGE_TAG:-$("$PYTHON" -c 'import replayer; print(replayer.__version__)')}"
  for image in serve record; do
    echo "images: building $IMAGE_PREFIX-$image:$tag"
    $PODMAN build -q --network host --format docker --build-arg "BASE=$IMAGE_BASE" \
      -f "deploy/container/Containerfile.$image" -t "$IMAGE_PREFIX-$image:$tag" \
      -t "$IMAGE_PREFIX-$image:latest" . >/dev/null
  done
}

case "${1:-build}" in
  base) base ;;
  wheels) wheels ;;
  build) build ;;
  *) echo "usage: $0 [base|wheels|build]" >&2; exit 2 ;;
esac
