"""Read a spreadsheet file (.xlsx or .csv) into plain rows of cell values.

CSV files come from many programs: UTF-8 with or without a byte-order mark, GBK (what Chinese
Excel writes with "CSV (逗号分隔)"), or UTF-16 with tabs ("Unicode 文本"). The encoding is
taken from the byte-order mark, else UTF-8 if the bytes are valid UTF-8, else GB18030 (a superset
of GBK). Cells of a CSV are text; an .xlsx keeps numbers, dates and text apart, and that
difference is what lets the importer see Excel's damage.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

EPOCH_1900 = datetime(1899, 12, 30)


class TableError(Exception):
    """A file that cannot be read as a table at all."""


@dataclass
class Table:
    """One sheet: its name and its rows (lists of cell values; row i is Excel row i + 1)."""

    name: str
    rows: list = field(default_factory=list)
    epoch: datetime = EPOCH_1900


def decode_csv(data: bytes) -> str:
    """The text of a CSV file in whichever encoding it was written."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8):].decode("utf-8")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise TableError(f"无法识别文件编码（不是 UTF-8，也不是 GBK）：第 {exc.start + 1} 个字节") from None


def read_csv(path: Path) -> list[Table]:
    text = decode_csv(path.read_bytes())
    first = text.split("\n", 1)[0]
    delimiter = max(",\t;", key=first.count) if first else ","
    if first.count(delimiter) == 0:
        delimiter = ","
    rows = [list(r) for r in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]
    return [Table(path.stem, rows)]


def read_xlsx(path: Path) -> list[Table]:
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        raise TableError(f"不是有效的 .xlsx 文件（{type(exc).__name__}）；.xls 请先在 Excel 里另存为 .xlsx") from None
    try:
        tables = []
        for ws in wb.worksheets:
            rows = [list(r) for r in ws.iter_rows(values_only=True)]
            tables.append(Table(ws.title, rows, wb.epoch))
        return tables
    finally:
        wb.close()


def read(path: Path) -> list[Table]:
    """Every sheet of an .xlsx file, or the one table of a .csv file."""
    suffix = path.suffix.lower()
    if suffix == ".csv" or suffix == ".txt":
        return read_csv(path)
    if suffix in (".xlsx", ".xlsm"):
        return read_xlsx(path)
    if suffix == ".xls":
        raise TableError("不支持旧版 .xls 文件；请在 Excel 里“另存为” .xlsx 后再导入")
    raise TableError(f"不支持的文件类型 {path.suffix or '（无扩展名）'}；请使用 .xlsx 或 .csv")
