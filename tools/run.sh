#!/usr/bin/env bash
# The main job: sets up and builds Wavebench, then opens the workbench on
# the default preset.  Where no display exists (a server, CI), runs the same
# preset through the headless CLI with a progress bar and writes PNGs.
set -euo pipefail
cd "$(dirname "$0")/.."

builddir=${WB_BUILDDIR:-_build}
WB_BUILDDIR=$builddir ./tools/setup.sh
preset=${1:-bhte-focused-ultrasound}

if { [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; } && [ -x "$builddir/src/app/wavebench" ]; then
  exec "$builddir/src/app/wavebench" --preset "$preset"
fi

out=${WB_OUTPUT:-wavebench-output}
mkdir -p "$out"
echo "run: no display; running $preset with the CLI (outputs in $out/)"
"$builddir/src/cli/wavebench-cli" run "$preset" --backend auto \
  --png "T:$out/$preset-T.png" --png "dose:$out/$preset-dose.png" --slice y \
  --npy "T:$out/$preset-T.npy"
