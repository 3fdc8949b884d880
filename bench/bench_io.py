#!/usr/bin/env python3
"""Time importing a 10,000-row .xlsx sheet and exporting 10,000 records (target: < 10 s each).

Run: python bench/bench_io.py [ROWS]. Prints the figures; asserts nothing.
"""

from __future__ import annotations

import io
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import openpyxl  # noqa: E402
from io_fixtures import HEADERS_NEW, make_data, row_new  # noqa: E402

from jinqiu import cli  # noqa: E402


def timed(label, argv):
    out, err = io.StringIO(), io.StringIO()
    start, cpu = time.perf_counter(), time.process_time()
    code = cli.main([str(a) for a in argv], out, err)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    print(f"{label}: {seconds:.2f} s wall, {cpu:.2f} s CPU (exit {code}; {err.getvalue().strip()})")
    return seconds


def main(rows: int = 10_000) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data = make_data(tmp / "data")
        sheet = tmp / "big.xlsx"
        wb = openpyxl.Workbook(write_only=True)
        ws = wb.create_sheet("申请")
        ws.append(HEADERS_NEW)
        for i in range(rows):
            ws.append(row_new(i))
        wb.save(sheet)
        print(f"{rows} rows, {sheet.stat().st_size // 1024} KiB")
        timed(f"import {rows} rows (new files)", ["import", sheet, "--unit", "dl-zs-0001", "--data", data])
        timed(f"import {rows} rows again (nothing changes)", ["import", sheet, "--unit", "dl-zs-0001", "--data", data])
        timed(f"export {rows} records to xlsx", ["export", "--unit", "dl", "--data", data, "--out", tmp / "e.xlsx"])
        timed(f"export {rows} records to csv", ["export", "--unit", "dl", "--data", data, "--format", "csv", "--out", tmp / "e.csv"])
        timed(f"fmt --check on {rows} records", ["fmt", "--check", "--data", data])


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
