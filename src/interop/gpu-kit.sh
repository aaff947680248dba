#!/usr/bin/env bash
# Packs wb-interop-proof and the shared libraries it needs beyond glibc into
# .dev-interop/ (git-ignored through .git/info/exclude) for the GPU machine,
# which has no GLib; gpu-proof.sh runs it there.  Usage:
#   src/interop/gpu-kit.sh [BUILDDIR]      (default _build)
# then, on the device: carry ".gl" and ".dev-interop", run
#   bash .dev-interop/gpu-proof.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
builddir=${1:-_build}
rm -rf .dev-interop && mkdir -p .dev-interop/bin .dev-interop/lib
cp "$builddir/src/interop/wb-interop-proof" .dev-interop/bin/
ldd .dev-interop/bin/wb-interop-proof | awk '/=> \// { print $3 }' | sort -u | while read -r lib; do
  case "$(basename "$lib")" in
    libc.so.*|libm.so.*|libpthread.so.*|libdl.so.*|librt.so.*|ld-linux*|libgcc_s.so.*) ;;
    *) cp -L "$lib" .dev-interop/lib/ ;;
  esac
done
# epoxy dlopens libEGL/libGL at run time: those come from the .gl packages
# (glvnd), which dispatch to NVIDIA's vendor library.
cp src/interop/gpu-proof.sh .dev-interop/
du -sh .dev-interop
