"""Spreadsheet cells that Excel, WPS or LibreOffice will never evaluate: the one helper every writer
of .xlsx and .csv passes its cells through (exports, `export --statistics`, the site's downloads).

OWASP's advice on CSV injection (and ASVS 1.2.10): a text cell whose first character is = + - @,
a tab, a carriage return or a NUL is read by a spreadsheet as a formula (`=HYPERLINK(…)`,
`=cmd|' /C calc'!A0`, `@SUM(…)`); prefix such a cell with a single quote, which the spreadsheet
takes as "this is text" and does not show. In .xlsx a text cell is written as a string cell
(never a formula, whatever it starts with) and, when it starts like a formula, with the cell
style's quotePrefix set, so that editing it in Excel keeps it text.

Numbers, dates and booleans are values a spreadsheet does not evaluate: they stay as they are.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal

TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "\0")

# What the CSV export may wrap as ="…" so that Excel keeps it text (ID numbers, phones): plain
# digits, letters and hyphens only, so that nothing can close the quotes and add a formula.
_SAFE_FOR_TEXT_FORMULA = re.compile(r"[0-9A-Za-z-]+")


def evaluated(text: str) -> bool:
    """Whether a spreadsheet would take this text as a formula (leading spaces do not stop it)."""
    return text.lstrip(" ")[:1] in TRIGGERS if text else False


def csv_cell(value) -> str:
    """A value as the text of a CSV cell: text that would be evaluated gets a leading single quote."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    text = str(value)
    return "'" + text if evaluated(text) else text


def csv_text_formula(value) -> str:
    """An ID number or phone as ="…", the one form Excel opens as text keeping every digit; any
    other text (which could close the quotes) as a neutral cell instead."""
    text = str(value)
    return f'="{text}"' if _SAFE_FOR_TEXT_FORMULA.fullmatch(text) else csv_cell(text)


def csv_row(values) -> list[str]:
    return [csv_cell(v) for v in values]


def xlsx_cell(ws, value, **style):
    """A cell for ws.append (write-only or not): text is always a string cell, never a formula."""
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(ws, value=None)
    set_value(cell, value)
    for name, v in style.items():
        setattr(cell, name, v)
    return cell


def set_value(cell, value) -> None:
    """Set a cell's value; text as a string cell (quote-prefixed when it starts like a formula)."""
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"
        if evaluated(value):
            cell.quotePrefix = True


def xlsx_row(ws, values) -> list:
    """A row for ws.append with every value through xlsx_cell (None stays an empty cell)."""
    return [None if v is None else xlsx_cell(ws, v) for v in values]


# ---- XlsxWriter (the record export: well under half of openpyxl's time for 10,000 rows) -----------

# Text is only ever written by write_string: no guessing numbers, formulas or links from text.
XLSXWRITER_OPTIONS = {"strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False}

# What openpyxl formats a date, time or duration cell as when the column has no format of its own.
_TIME_FORMATS = {datetime: "yyyy-mm-dd h:mm:ss", date: "yyyy-mm-dd", time: "h:mm:ss", timedelta: "[hh]:mm:ss"}
_ILLEGAL = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")  # control characters, refused as openpyxl does


class XlsxCells:
    """Cells of an XlsxWriter workbook, typed as the openpyxl export typed them (xlsx_cell): text is
    a string cell, never a formula, quote-prefixed when it starts like a formula; a number, a
    boolean or a date keeps its type, and a date with no format of its own is shown as a date."""

    def __init__(self, wb):
        self.wb = wb
        self._formats: dict = {}

    def format(self, num_format: str | None, quote: bool = False, bold: bool = False):
        key = (num_format, quote, bold)
        if key not in self._formats:
            props = {"num_format": num_format, "quote_prefix": quote, "bold": bold}
            props = {k: v for k, v in props.items() if v}
            self._formats[key] = self.wb.add_format(props) if props else None
        return self._formats[key]

    def write(self, ws, row: int, col: int, value, num_format: str | None = None, *, bold: bool = False) -> None:
        """Write one value (None writes nothing) with a number format, or none."""
        if value is None:
            return
        if isinstance(value, str):
            if _ILLEGAL.search(value):
                from openpyxl.utils.exceptions import IllegalCharacterError

                raise IllegalCharacterError(f"{value} cannot be used in worksheets.")
            if value:
                ws.write_string(row, col, value, self.format(num_format, evaluated(value), bold))
            else:  # an empty cell, with its format, as openpyxl wrote it
                ws.write_blank(row, col, None, self.format(num_format, False, bold))
        elif isinstance(value, bool):
            ws.write_boolean(row, col, value, self.format(num_format, False, bold))
        elif isinstance(value, (int, float, Decimal)):
            number = float(value) if isinstance(value, Decimal) else value
            if isinstance(number, float) and not math.isfinite(number):
                ws.write_blank(row, col, None, self.format(num_format, False, bold))
            else:
                ws.write_number(row, col, number, self.format(num_format, False, bold))
        elif isinstance(value, (datetime, date, time, timedelta)):
            default = next(f for t, f in _TIME_FORMATS.items() if isinstance(value, t))
            ws.write_datetime(row, col, value, self.format(num_format or default, False, bold))
        else:
            raise ValueError(f"Cannot convert {value!r} to Excel")


def close_xlsx(wb) -> None:
    """Save an XlsxWriter workbook; a file that cannot be written is an OSError, as with openpyxl."""
    from xlsxwriter.exceptions import FileCreateError

    try:
        wb.close()
    except FileCreateError as exc:
        cause = exc.args[0] if exc.args else None
        raise (cause if isinstance(cause, OSError) else OSError(str(exc))) from None
