#!/usr/bin/env python3
"""Counts test cases from meson's testlog.json.

Each test binary speaks TAP: every "ok N ..." and "not ok N ..." line is one
case ("# SKIP" marks a skipped one).  A binary that failed without reporting
a failing case (a crash, a timeout) counts as one more failure.  Prints
"N passed, N failed, N skipped" and exits 1 if anything failed."""
import json
import re
import sys

passed = failed = skipped = 0
failures = []
with open(sys.argv[1]) as fh:
    for line in fh:
        t = json.loads(line)
        name = t.get("name", "?")
        out = t.get("stdout", "") or ""
        p = f = s = 0
        for l in out.splitlines():
            if re.match(r"^not ok\b", l):
                if "# TODO" in l:
                    continue
                f += 1
                failures.append(f"{name}: {l}")
            elif re.match(r"^ok\b", l):
                if "# SKIP" in l or "# skip" in l:
                    s += 1
                else:
                    p += 1
        result = t.get("result", "")
        if result in ("FAIL", "TIMEOUT", "ERROR", "UNEXPECTEDPASS") and f == 0:
            f = 1
            failures.append(f"{name}: {result} (exit {t.get('returncode')})")
        if p + f + s == 0:
            # A binary that does not speak TAP: its exit status is one case.
            if result == "OK":
                p = 1
            elif result == "SKIP":
                s = 1
        passed += p
        failed += f
        skipped += s

for f in failures:
    print("FAILED:", f)
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed else 0)
