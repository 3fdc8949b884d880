"""Read a spreadsheet file (.xlsx or .csv) into plain rows of cell values.

CSV files come from many programs: UTF-8 with or without a byte-order mark, GBK (what Chinese
Excel writes with "CSV (逗号分隔)"), or UTF-16 with tabs ("Unicode 文本"). The encoding is
taken from the byte-order mark, else UTF-8 if the bytes are valid UTF-8, else GB18030 (a superset
of GBK). Cells of a CSV are text; an .xlsx keeps numbers, dates and text apart, and that
difference is what lets the importer see Excel's damage.

A spreadsheet is untrusted input, and a small file can claim or hold a huge one: an .xlsx whose
dimension says A1:XFD1048576 (1.6 KB), or a megabyte of zip that inflates to millions of rows.
So nothing is sized from what the file claims: before openpyxl opens an .xlsx, every zip member's
declared size is checked (in total, and against its compressed size: zipfile stops reading a
member at its declared size, so the declaration bounds what is read); sheets are streamed
(read-only mode, the claimed dimension discarded) and reading stops at MAX_ROWS rows or
MAX_COLUMNS columns with a message. Formulas are read as formulas (data_only=False), never as
their cached values, so that the importer can refuse them (jinqiu.sheets.cells.formula_notes).
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

MAX_ROWS = 50_000  # rows of one sheet, header included (a grassroots union files hundreds)
MAX_COLUMNS = 256  # the blank templates have about 30
MAX_CSV_BYTES = 32 * 1024 * 1024
MAX_XLSX_UNCOMPRESSED = 128 * 1024 * 1024  # all members together; 10,000 rows inflate to about 15 MB
MAX_XLSX_MEMBERS = 1000
MAX_RATIO = 100  # inflated / compressed for a member over 1 MiB; real sheets are about 5-20


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


def _too_many_rows(name: str) -> TableError:
    return TableError(f"工作表“{name}”超过 {MAX_ROWS} 行，未导入；请分成几个文件，或删去末尾多余的行")


def _too_many_columns(name: str, row: int) -> TableError:
    return TableError(f"工作表“{name}”第 {row} 行超过 {MAX_COLUMNS} 列，未导入；导入表格只需模板里的栏目")


def _mib(n: int) -> str:
    return f"{n / 1024 / 1024:.0f} MB"


def read_csv(path: Path) -> list[Table]:
    size = path.stat().st_size
    if size > MAX_CSV_BYTES:
        raise TableError(f"文件有 {_mib(size)}，超过 {_mib(MAX_CSV_BYTES)} 的上限，未导入；请分成几个文件")
    data = path.read_bytes()
    if data.startswith(b"PK\x03\x04"):
        raise TableError(f"这是一个 .xlsx（zip）文件，扩展名却是 {path.suffix}；请把扩展名改回 .xlsx")
    text = decode_csv(data)
    if "\0" in text:
        raise TableError(f"第 {text.count(chr(10), 0, text.index(chr(0))) + 1} 行有 NUL 字符：这不是文本 CSV 文件")
    first = text.split("\n", 1)[0]
    delimiter = max(",\t;", key=first.count) if first else ","
    if first.count(delimiter) == 0:
        delimiter = ","
    rows = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for row in reader:
            if len(rows) >= MAX_ROWS:
                raise _too_many_rows(path.stem)
            if len(row) > MAX_COLUMNS:
                raise _too_many_columns(path.stem, reader.line_num)
            rows.append(row)
    except csv.Error as exc:
        raise TableError(f"第 {reader.line_num} 行不是有效的 CSV（{exc}）") from None
    return [Table(path.stem, rows)]


def check_zip(path: Path) -> None:
    """Refuse an .xlsx whose members would inflate beyond the limits, before anything is inflated."""
    try:
        with zipfile.ZipFile(path) as zf:
            members = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise TableError(f"不是有效的 .xlsx 文件（{type(exc).__name__}）；.xls 请先在 Excel 里另存为 .xlsx") from None
    if len(members) > MAX_XLSX_MEMBERS:
        raise TableError(f"文件里有 {len(members)} 个部件，不像 Excel 表格，未导入")
    total = 0
    for m in members:
        total += m.file_size
        if m.file_size > 1024 * 1024 and m.file_size > MAX_RATIO * max(1, m.compress_size):
            raise TableError(
                f"文件中的 {m.filename} 压缩后 {m.compress_size} 字节，解压后却有 {_mib(m.file_size)}"
                f"（超过 {MAX_RATIO} 倍），像是“压缩炸弹”，未导入")
    if total > MAX_XLSX_UNCOMPRESSED:
        raise TableError(f"文件解压后有 {_mib(total)}，超过 {_mib(MAX_XLSX_UNCOMPRESSED)} 的上限，未导入；请分成几个文件")


def _cell_parser():
    """openpyxl's sheet parser, with a fast path for the commonest cell of a written-out sheet: a
    plain inline string (<c t="inlineStr"><is><t>…</t></is></c>, what write-only openpyxl writes),
    which openpyxl otherwise builds a rich-text object for. Everything else, formulas above all, is
    openpyxl's own parse_cell; tests/test_tables.py compares both cell by cell."""
    from openpyxl.utils.cell import coordinate_to_tuple
    from openpyxl.worksheet._reader import INLINE_STRING, WorkSheetParser
    from openpyxl.xml.constants import SHEET_MAIN_NS

    text_tag = f"{{{SHEET_MAIN_NS}}}t"

    class CellParser(WorkSheetParser):
        def parse_cell(self, element):
            if element.get("t") == "inlineStr" and len(element) == 1:
                (inline,) = element
                if inline.tag == INLINE_STRING and len(inline) == 1 and inline[0].tag == text_tag and not len(inline[0]):
                    coordinate = element.get("r")
                    if coordinate:
                        row, column = coordinate_to_tuple(coordinate)
                        self.col_counter = column
                    else:
                        self.col_counter += 1
                        row, column = self.row_counter, self.col_counter
                    style_id = element.get("s", 0)
                    return {"row": row, "column": column, "value": inline[0].text or "", "data_type": "s",
                            "style_id": int(style_id) if style_id else 0}
            return super().parse_cell(element)

    return CellParser


def _sheet_rows(wb, ws) -> list:
    """The rows of a read-only sheet as wide as its widest row with content, within the limits:
    what ws.iter_rows(max_col=MAX_COLUMNS + 1, values_only=True) gives once the claimed dimension is
    reset (a missing row is an empty one, a repeated or out-of-order row is skipped), read through
    _cell_parser (openpyxl 3.1's WorkSheetParser, as ReadOnlyWorksheet runs it)."""
    rows = []
    limit = MAX_COLUMNS + 1
    with ws._get_source() as src:
        parser = _cell_parser()(src, ws._shared_strings, data_only=False, epoch=wb.epoch,
                                date_formats=wb._date_formats, timedelta_formats=wb._timedelta_formats)
        for index, cells in parser.parse():
            while len(rows) + 1 < index:  # rows the file leaves out
                if len(rows) >= MAX_ROWS:
                    raise _too_many_rows(ws.title)
                rows.append([])
            if len(rows) + 1 > index:  # a row number already read
                continue
            if len(rows) >= MAX_ROWS:
                raise _too_many_rows(ws.title)
            row = [None] * min(limit, max((c["column"] for c in cells), default=0))
            for c in cells:
                column = c["column"]
                if column > MAX_COLUMNS:
                    if c["value"] is not None:  # anywhere past the limit: refused, never dropped unsaid
                        raise _too_many_columns(ws.title, len(rows) + 1)
                elif column >= 1:
                    row[column - 1] = c["value"]
            end = min(len(row), MAX_COLUMNS)
            while end and row[end - 1] is None:
                end -= 1
            del row[end:]
            rows.append(row)
    width = max(map(len, rows), default=0)  # every row as wide as the widest, as a sheet's grid is
    for r in rows:
        r.extend([None] * (width - len(r)))
    return rows


def _workbook(path: Path):
    """openpyxl's read-only workbook (shared strings, styles, the date system, the sheets and their
    settings), except that a sheet is not sized when opened: openpyxl's ReadOnlyWorksheet reads a
    sheet whole to find its size when the file states none (what write-only openpyxl writes), and
    the size a file claims is not used here anyway (_sheet_rows reads what the sheet holds). The
    read-only branch of openpyxl 3.1's ExcelReader.read_worksheets otherwise, as it is."""
    from openpyxl.packaging.relationship import get_dependents, get_rels_path
    from openpyxl.reader.excel import ExcelReader
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    class Sheet(ReadOnlyWorksheet):
        def _get_size(self):
            pass

    class Reader(ExcelReader):
        def read_worksheets(self):
            for sheet, rel in self.parser.find_sheets():
                if rel.target not in self.valid_files:
                    continue
                if "chartsheet" in rel.Type:
                    self.read_chartsheet(sheet, rel)
                    continue
                rels_path = get_rels_path(rel.target)
                if rels_path in self.valid_files:
                    get_dependents(self.archive, rels_path)
                ws = Sheet(self.wb, sheet.name, rel.target, self.shared_strings)
                ws.sheet_state = sheet.state
                self.wb._sheets.append(ws)

    reader = Reader(path, read_only=True, data_only=False)
    reader.read()
    return reader.wb


def read_xlsx(path: Path) -> list[Table]:
    from openpyxl.utils.exceptions import InvalidFileException

    check_zip(path)
    try:
        wb = _workbook(path)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        raise TableError(f"不是有效的 .xlsx 文件（{type(exc).__name__}）；.xls 请先在 Excel 里另存为 .xlsx") from None
    try:
        return [Table(ws.title, _sheet_rows(wb, ws), wb.epoch) for ws in wb.worksheets]
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, SyntaxError) as exc:  # a damaged sheet
        raise TableError(f"工作表无法读取（{type(exc).__name__}），文件可能已损坏；请在 Excel 里打开后重新保存") from None
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
