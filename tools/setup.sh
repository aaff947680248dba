#!/usr/bin/env bash
# Installs what Wavebench needs to build, run and test on Debian 12 / Ubuntu 24.04,
# then configures and builds it in _build.  Idempotent: a second run installs
# nothing and only rebuilds what changed.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential pkg-config meson ninja-build gettext
  libglib2.0-dev libjson-glib-dev libpng-dev
  ocl-icd-opencl-dev opencl-c-headers pocl-opencl-icd clinfo
  libgtk-4-dev libepoxy-dev libadwaita-1-dev libgtksourceview-5-dev
  libvulkan-dev libegl-dev libgl-dev mesa-vulkan-drivers
  libsegyio-dev
  xvfb xauth libgl1-mesa-dri libegl-mesa0
  desktop-file-utils appstream libxml2-utils
  python3 python3-numpy
  clang libclang-rt-dev valgrind
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

builddir=${WB_BUILDDIR:-_build}
if [ ! -f "$builddir/build.ninja" ]; then
  meson setup "$builddir" >/dev/null
fi
ninja -C "$builddir" >/dev/null
echo "setup: built $builddir"
