#!/usr/bin/env python3
"""Time `build.py validate` on N generated applications, cold and warm, against check-jsonschema.

    python bench/bench_validate.py 1000 10000 100000

For each N: generate a data tree with jinqiu.sample.generate (N applications a year is scaled so the
tree holds about N applications in all), then time, each as its own process:
  cold      validate with no cache (every file read, parsed, checked; both cores)
  warm      validate again with nothing changed (the content cache)
  check-jsonschema over the same application files with the same schema (its usual pre-commit
            use: one process, every file on the command line), unless --no-check-jsonschema.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def timed(cmd, **kw) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, **kw)
    return time.perf_counter() - start, proc


def main(argv=None) -> int:
    from jinqiu.sample import generate as sample

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sizes", nargs="*", type=int, default=[1000, 10000, 100000])
    ap.add_argument("--no-check-jsonschema", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the generated trees")
    ap.add_argument("--data", type=Path, help="time this data directory (one size) instead of generating one")
    args = ap.parse_args(argv)
    print(f"{'N':>8} {'apps':>8} {'cold s':>8} {'rec/s':>8} {'warm s':>7} {'check-jsonschema s':>19} {'ratio':>6}")
    for n in args.sizes:
        work = Path(tempfile.mkdtemp(prefix=f"jinqiu-bench-{n}-"))
        data = work / "data"
        if args.data:
            data = args.data
        else:
            sample.generate(data, applications_per_year=max(1, n // 3))
        apps = sorted(str(p) for p in (data / "applications").rglob("*.yaml"))
        validate = [sys.executable, str(ROOT / "build.py"), "validate", "--data", str(data)]
        cold, proc = timed(validate + ["--no-cache"])
        if proc.returncode not in (0, 1):
            print(proc.stderr, file=sys.stderr)
            return 1
        timed(validate)  # fill the cache
        time.sleep(2.1)  # let the files age past the racy window, as between two real runs
        timed(validate)
        warm, proc2 = timed(validate)
        assert "缓存" in proc2.stderr, proc2.stderr
        cj = ""
        ratio = ""
        if not args.no_check_jsonschema:
            # in batches, as pre-commit passes files, to stay under the argument-length limit
            t_cj = 0.0
            for i in range(0, len(apps), 5000):
                cmd = ["check-jsonschema", "--schemafile", str(ROOT / "schemas" / "application.schema.json"), *apps[i:i + 5000]]
                t, _ = timed(cmd)
                t_cj += t
            cj = f"{t_cj:.1f}"
            ratio = f"{t_cj / cold:.1f}x"
        print(f"{n:>8} {len(apps):>8} {cold:>8.1f} {len(apps) / cold:>8.0f} {warm:>7.2f} {cj:>19} {ratio:>6}", flush=True)
        if not args.keep:
            shutil.rmtree(work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
