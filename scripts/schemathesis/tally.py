"""Count and judge one schemathesis pass from the statuses sign_hooks.py tallied per operation.

Writes <dir>/summary.json ({"passed", "failed", "skipped", "cases"}) for the test totals: a case
is one request schemathesis sent; it failed if the server answered 5xx, or (unsigned pass) if a
webhook route answered below 400. Operations that JUnit reports failed (a check schemathesis ran
that the tally cannot see) count at least once each.

signed:   every webhook operation must have answered something other than 401/403/404 at least
          once, or the signing hook did not get it past authentication or routing.
unsigned: every webhook operation must have answered 4xx only.
"""

import json
import os
import re
import sys

mode, path = sys.argv[1], sys.argv[2]
folder = os.path.dirname(path)
try:
    with open(path, encoding="utf-8") as f:
        tally = json.load(f)
except FileNotFoundError:
    print(f"schemathesis {mode}: no tally written ({path})")
    sys.exit(1)

stuck = False
cases = failed_cases = 0
for route in sorted(tally):
    codes = tally[route]
    total = sum(codes.values())
    cases += total
    hook = " /hooks/" in route
    bad = sum(
        n
        for code, n in codes.items()
        if code.startswith("5") or (mode == "unsigned" and hook and int(code) < 400)
    )
    failed_cases += bad
    spread = ", ".join(f"{code}: {n}" for code, n in sorted(codes.items()))
    verdict = f"  <- {bad} failed" if bad else ""
    if hook and mode == "signed" and all(code in ("401", "403", "404") for code in codes):
        verdict += "  <- never got past authentication/routing"
        stuck = True
    print(f"schemathesis {mode}: {route}: {total} cases ({spread}){verdict}")

junit_failed = 0
junit = os.path.join(folder, "junit.xml")
if os.path.exists(junit):
    with open(junit, encoding="utf-8") as f:
        text = f.read()
    junit_failed = len(re.findall(r"<failure\b|<error\b", text))
failed = max(failed_cases, junit_failed) + (1 if stuck else 0)
summary = {"cases": cases, "passed": cases - min(failed, cases), "failed": failed, "skipped": 0}
with open(os.path.join(folder, "summary.json"), "w", encoding="utf-8") as out:
    json.dump(summary, out)
print(f"schemathesis {mode}: {summary['passed']} passed, {summary['failed']} failed")
sys.exit(1 if failed else 0)
