#!/usr/bin/env bash
# The whole test suite built with AddressSanitizer and UndefinedBehaviorSanitizer
# in a build directory of its own.  Usage: tools/sanitize.sh [meson test args]
# Environment: WB_SANITIZE_BUILDDIR (default _build-sanitize).
# Ends with the line "N passed, N failed, N skipped" (tools/test-summary.py).
#
# Leaks: LeakSanitizer runs too.  Allocations that the OpenCL ICD loader,
# PoCL and its LLVM keep for the life of the process are suppressed in
# tools/lsan.supp (each entry says why); anything of ours is reported.
set -uo pipefail
cd "$(dirname "$0")/.."

builddir=${WB_SANITIZE_BUILDDIR:-_build-sanitize}

if [ ! -f "$builddir/build.ninja" ]; then
  meson setup "$builddir" -Db_sanitize=address,undefined -Db_lundef=false \
    -Dbuildtype=debugoptimized >"${TMPDIR:-/tmp}/wb-sanitize-setup.log" 2>&1 \
    || { cat "${TMPDIR:-/tmp}/wb-sanitize-setup.log"; echo "0 passed, 1 failed"; exit 1; }
fi
# -k 0: one target that does not build must not hide every other result;
# it counts as one failure in the closing line.
build_failed=0
if ! ninja -C "$builddir" -k 0 >"$builddir/sanitize-build.log" 2>&1; then
  build_failed=1
  echo "sanitize: some targets failed to build:"
  grep -E "^FAILED|error:" "$builddir/sanitize-build.log" | head -n 20
fi

supp="$PWD/tools/lsan.supp"
# halt_on_error: a UBSan finding fails the test instead of scrolling by.
# detect_odr_violation=0: GLib and json-glib are linked into both the
# program and (through PoCL's LLVM) nothing of ours, but PoCL's own
# plugins duplicate a few LLVM globals.
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:abort_on_error=1:detect_odr_violation=0:${ASAN_OPTIONS_EXTRA:-}"
export LSAN_OPTIONS="suppressions=$supp:print_suppressions=0"
export UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1"
# PoCL's pool of device threads makes LeakSanitizer's exit-time check crash
# ("Tracer caught signal 11") in processes that released an OpenCL context
# and went on (the --fallback-reference path, every time); one worker
# thread avoids it.
export POCL_MAX_PTHREAD_COUNT=1
# GSlice hides leaked slices from LeakSanitizer unless it is plain malloc.
export G_SLICE=always-malloc
export G_DEBUG=gc-friendly

runner=()
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ] && command -v xvfb-run >/dev/null; then
  runner=(xvfb-run -a -s "-screen 0 1600x1000x24")
fi

# The GUI tests start the app under llvmpipe, whose rasterizer threads can
# make LeakSanitizer's exit-time tracer crash ("Tracer caught signal 11",
# seen once in CI with no leak behind it): they run with ASan and UBSan
# but without the leak check; every other test keeps it.
"${runner[@]}" meson test -C "$builddir" --no-rebuild --print-errorlogs --num-processes 2 \
  --timeout-multiplier 4 --no-suite gui --logbase sanitize-core "$@"
rc=$?
ASAN_OPTIONS="${ASAN_OPTIONS/detect_leaks=1/detect_leaks=0}" \
"${runner[@]}" meson test -C "$builddir" --no-rebuild --print-errorlogs --num-processes 2 \
  --timeout-multiplier 4 --suite gui --logbase sanitize-gui "$@"
rc_gui=$?
[ $rc -eq 0 ] && rc=$rc_gui
cat "$builddir/meson-logs/sanitize-core.json" "$builddir/meson-logs/sanitize-gui.json" \
  > "$builddir/meson-logs/sanitize-all.json" 2>/dev/null
summary=$(python3 tools/test-summary.py "$builddir/meson-logs/sanitize-all.json")
summary_rc=$?
echo "$summary" | sed '$d'
line=$(echo "$summary" | tail -n 1)
if [ $build_failed -ne 0 ]; then
  p=$(echo "$line" | sed -E 's/^([0-9]+) passed.*/\1/')
  f=$(echo "$line" | sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/')
  rest=$(echo "$line" | sed -E 's/^[0-9]+ passed, [0-9]+ failed//')
  line="$p passed, $((f + 1)) failed$rest"
fi
echo "$line"
[ $rc -eq 0 ] && [ $summary_rc -eq 0 ] && [ $build_failed -eq 0 ]
