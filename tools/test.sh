#!/usr/bin/env bash
# Sets up (tools/setup.sh), builds and runs every test with meson, then
# prints the closing line "N passed, N failed[, N skipped]" counted from the
# test cases' own TAP results (one line per g_test case).
set -uo pipefail
cd "$(dirname "$0")/.."

builddir=${WB_BUILDDIR:-_build}
WB_BUILDDIR=$builddir ./tools/setup.sh || { echo "0 passed, 1 failed"; exit 1; }

# The GUI tests need a display: give them a virtual one when there is none.
runner=()
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ] && command -v xvfb-run >/dev/null; then
  runner=(xvfb-run -a -s "-screen 0 1600x1000x24")
fi

"${runner[@]}" meson test -C "$builddir" --print-errorlogs --num-processes 2 "$@"
rc=$?
python3 tools/test-summary.py "$builddir/meson-logs/testlog.json"
summary_rc=$?
[ $rc -eq 0 ] && [ $summary_rc -eq 0 ]
