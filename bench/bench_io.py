#!/usr/bin/env python3
"""Time importing a 10,000-row .xlsx sheet and exporting 10,000 records (target, issue 12: ≤ 5 s each).

Run: python bench/bench_io.py [ROWS] [--code TREE]. Prints one line per stage, the same on any
tree, so that two runs compare line by line: wall time, CPU time of this process, and CPU time of
the worker processes it waited for (verify loads a large tree on every core). --code times another
checkout's jinqiu (the baseline) on the very same input. Asserts nothing.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent


def timed(cli, label, argv):
    out, err = io.StringIO(), io.StringIO()
    before, start = os.times(), time.perf_counter()
    code = cli.main([str(a) for a in argv], out, err)
    seconds, after = time.perf_counter() - start, os.times()
    cpu = after.user + after.system - before.user - before.system
    workers = max(0.0, after.children_user + after.children_system - before.children_user - before.children_system)
    print(f"{label}: {seconds:.2f} s wall, {cpu:.2f} s CPU, {workers:.2f} s CPU in workers"
          f" (exit {code}; {err.getvalue().strip()})", flush=True)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", nargs="?", type=int, default=10_000)
    parser.add_argument("--code", type=Path, default=HERE, help="the checkout whose jinqiu is timed (default: this one)")
    args = parser.parse_args()
    code = args.code.resolve()
    sys.path[:0] = [str(code), str(code / "tests")]

    import openpyxl
    from io_fixtures import HEADERS_NEW, make_data, row_new

    from jinqiu import cli

    rows = args.rows
    print(f"code {code}; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}; {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data = make_data(tmp / "data")
        sheet = tmp / "big.xlsx"
        wb = openpyxl.Workbook(write_only=True)  # as issue 12 measured: inline strings, no dimension
        ws = wb.create_sheet("申请")
        ws.append(HEADERS_NEW)
        for i in range(rows):
            ws.append(row_new(i))
        wb.save(sheet)
        print(f"{rows} rows, {sheet.stat().st_size // 1024} KiB")
        unit = ["--unit", "dl-zs-0001", "--data", data]
        timed(cli, f"import {rows} rows (new files)", ["import", sheet, *unit])
        timed(cli, f"import {rows} rows again (nothing changes)", ["import", sheet, *unit])
        timed(cli, f"export {rows} records to xlsx", ["export", "--unit", "dl", "--data", data, "--out", tmp / "e.xlsx"])
        timed(cli, "import the exported xlsx (nothing changes)", ["import", tmp / "e.xlsx", *unit])
        timed(cli, f"export {rows} records to csv", ["export", "--unit", "dl", "--data", data, "--format", "csv", "--out", tmp / "e.csv"])
        timed(cli, f"fmt --check on {rows} records", ["fmt", "--check", "--data", data])
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
