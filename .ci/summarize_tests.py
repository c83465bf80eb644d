"""Prints 'N passed, N failed[, N skipped]' from meson's testlog.json and each Catch2
program's JUnit report (build/tests/<name>.junit.xml): a Catch2 program counts its test
cases; a test without a report (a script, or a program that crashed) counts as one."""
import json
import os
import sys
import xml.etree.ElementTree as ET

build = sys.argv[1] if len(sys.argv) > 1 else "build"
passed = failed = skipped = 0
failures = []
with open(os.path.join(build, "meson-logs", "testlog.json")) as f:
    for line in f:
        if not line.strip():
            continue
        rec = json.loads(line)
        name, result = rec["name"], rec["result"]
        # Names read "name", "project / name" or "project:suite / name".
        report = os.path.join(build, "tests", name.split(" / ")[-1].split(":")[-1].strip() + ".junit.xml")
        cases = None
        if os.path.exists(report):
            try:
                root = ET.parse(report).getroot()
                cases = root.iter("testcase")
            except ET.ParseError:
                cases = None
        if result == "SKIP":
            skipped += 1
        elif cases is not None:
            for case in cases:
                bad = case.find("failure")
                if bad is None:
                    bad = case.find("error")
                if bad is not None:
                    failed += 1
                    detail = "\n    ".join(((bad.get("message") or "") + "\n" + (bad.text or "")).strip().splitlines()[:15])
                    failures.append(f"{name}: {case.get('name')}\n    {detail}")
                else:
                    passed += 1
            if result not in ("OK", "EXPECTEDFAIL") and not failures:
                failed += 1  # the program failed after its report (e.g. crashed at exit)
                failures.append(f"{name}: exited with {result}")
        elif result in ("OK", "EXPECTEDFAIL"):
            passed += 1
        else:
            failed += 1
            failures.append(f"{name}: {result}")
for f in failures:
    print("FAILED:", f)
line = f"{passed} passed, {failed} failed"
if skipped:
    line += f", {skipped} skipped"
print(line)
sys.exit(1 if failed else 0)
