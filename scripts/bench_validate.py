"""Benchmark: validating the three shipped programmes (and their forms) in one process.

Run with `make bench`. Each round starts a fresh interpreter, so imports are measured too;
the target is under 0.3 s for the validation itself, beyond interpreter start-up.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys

ROUNDS = 11
CHILD = r"""
import json, time
t0 = time.perf_counter()
from pathlib import Path
from engine.definition.loader import Linter
t1 = time.perf_counter()
linter = Linter()
problems = 0
for path in sorted(Path("programmes").glob("*.yaml")):
    problems += sum(len(p) for p in linter.file(path).values())
t2 = time.perf_counter()
print(json.dumps({"imports": t1 - t0, "validate": t2 - t1, "problems": problems}))
"""


def main() -> None:
    """Print the median import and validation times over fresh interpreters."""
    runs = [
        json.loads(
            subprocess.run(
                [sys.executable, "-c", CHILD], check=True, capture_output=True, text=True
            ).stdout
        )
        for _ in range(ROUNDS)
    ]
    if any(r["problems"] for r in runs):
        sys.exit("the shipped programmes have problems; run `commission validate`")
    imports = statistics.median(r["imports"] for r in runs)
    validate = statistics.median(r["validate"] for r in runs)
    print(
        f"validate 3 programmes + forms: {validate * 1000:.0f} ms (median of {ROUNDS}),"
        f" imports {imports * 1000:.0f} ms, total {(imports + validate) * 1000:.0f} ms beyond interpreter start-up"
    )
    print("target: under 300 ms —", "met" if imports + validate < 0.3 else "NOT met")


if __name__ == "__main__":
    main()
