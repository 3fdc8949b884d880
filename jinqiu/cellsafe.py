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

import re
from datetime import date, datetime
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
