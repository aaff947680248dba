#!/usr/bin/env bash
# Packs wavebench-cli and the shared libraries it needs beyond glibc into
# .dev/ (ignored by git) so it can travel to a GPU machine that has no GTK,
# GLib or json-glib installed.  Usage: tools/device-kit.sh [BUILDDIR]
set -euo pipefail
cd "$(dirname "$0")/.."
builddir=${1:-_build}
rm -rf .dev && mkdir -p .dev/bin .dev/lib
cp "$builddir/src/cli/wavebench-cli" .dev/bin/
for extra in "$builddir"/tools/wb-interop-proof "$builddir"/src/interop/wb-interop-proof; do
  [ -x "$extra" ] && cp "$extra" .dev/bin/
done
for bin in .dev/bin/*; do
  ldd "$bin" | awk '/=> \// { print $3 }'
done | sort -u | while read -r lib; do
  case "$(basename "$lib")" in
    libc.so.*|libm.so.*|libpthread.so.*|libdl.so.*|librt.so.*|ld-linux*|libgcc_s.so.*) ;;
    *) cp -L "$lib" .dev/lib/ ;;
  esac
done
cp tools/gpu-run.sh .dev/ 2>/dev/null || true
du -sh .dev
