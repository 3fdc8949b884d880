"""Read one spreadsheet cell as a field value, undoing Excel's damage only where it is certain.

`read(column, value, epoch)` returns (value, notes): value is MISSING for an empty cell, notes a
list of (severity, message). Each damage is its own function with a docstring stating the rule.
Messages never show a whole ID number or phone number (jinqiu.check.ids masks them).

Excel's damage and what is done about it:
- An ID number typed into a General cell becomes a number: Excel keeps only 15 significant
  digits (2.10202E+17, 210202196803151000). The lost digits cannot be known: refused.
- A numeric cell holding 17 digits (the trailing X of an ID, or one digit, missing) is refused
  too, although the check digit could be computed: a check digit computed from a damaged
  number makes a wrong ID look valid, and there is no telling which digit is missing.
- A numeric cell holding all 18 digits exactly (only other programs such as WPS or scripts
  write these) loses nothing: accepted, with a warning to format the column as text.
- Dates: date cells are read as dates; a bare number under a date header is an Excel serial
  date (1900 or 1904 system, as the workbook says) and converted; 2011/8/1, 2011.8.1 and
  2011年8月1日 are rewritten as 2011-08-01.
- Phones: a landline of the city that lost its leading 0 is exactly one of the city's area codes
  (units.yaml, jinqiu.check.city) without its 0 plus an eight-digit local number (for 024:
  2423456789 or 24-23456789), so it is repaired to 024-23456789 with a warning; one typed without
  its hyphen (02423456789) gets it. Anything else that is not a mobile or an area-coded landline is
  refused, and so is every landline without its 0 when the data names no area code.

Formulas are refused (formula_notes): a clerk's sheet holds values, and a cell that a spreadsheet
evaluates (=…, or text starting with + - @ that is not a plain number or phone) must never reach
the data, from where an export could hand it to someone else's Excel. The one exception is
="…" around plain text, which is how Excel keeps an ID number as text (our CSV export writes it).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from ..check import city, ids
from . import cellsafe, columns

MISSING = object()
ERROR, WARNING = "error", "warning"

_TRUE = {"是", "√", "✓", "✔", "☑", "■", "true", "yes", "y", "1", "有"}
_FALSE = {"否", "×", "✗", "☐", "□", "false", "no", "n", "0", "无"}
_DATE_TEXT = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_MONTH_TEXT = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?$")
_TEXT_FORMULA = re.compile(r'^="([^"]*)"$')  # a constant: no quote inside, so nothing can follow it
_PLAIN_SIGNED = re.compile(r"^[+-]\s*[0-9][0-9\s,.()/-]*$|^-+$")  # -5, +86 139…, a dash for "none"


def text_of(value) -> str:
    """A cell as text: numbers without a trailing .0, Excel's ="…" text and '… prefix removed."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        value = int(value)
    text = str(value).strip().replace("\u3000", " ").strip()
    m = _TEXT_FORMULA.match(text)
    if m:
        text = m.group(1)
    if text.startswith("'"):
        text = text[1:]
    return text


def formula_notes(value) -> list:
    """[(ERROR, why)] for a cell that a spreadsheet would evaluate, else []."""
    if isinstance(value, str):
        text = value.strip()
        if not cellsafe.evaluated(text):  # most cells: nothing more to look at
            return []
    elif value is None or isinstance(value, (int, float, Decimal, bool, date, datetime, time, timedelta)):
        return []
    else:  # openpyxl's ArrayFormula, DataTableFormula
        return [(ERROR, "这是公式，表格里应填写数值，不是公式；请复制后用“选择性粘贴 → 数值”换成计算结果")]
    if not cellsafe.evaluated(text) or _TEXT_FORMULA.match(text) or _PLAIN_SIGNED.match(text):
        return []
    shown = re.sub(r"[0-9]", "*", text[:16]) + ("…" if len(text) > 16 else "")  # no digits of an ID or phone
    if text.startswith("="):
        return [(ERROR, f"“{shown}”这是公式，表格里应填写数值，不是公式；请复制后用“选择性粘贴 → 数值”换成计算结果")]
    return [(ERROR, f"“{shown}”以 {text[0]} 开头，Excel 会把它当作公式；请去掉开头的 {text[0]}")]


def _number_cell(value) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def read_id_number(value, *, numeric: bool):
    """An ID number must be the exact 18 characters; a number that lost digits is refused."""
    if numeric:
        if isinstance(value, float) and not value.is_integer():
            return MISSING, [(ERROR, "身份证号码被存成了带小数的数字，无法还原；请把该列设为“文本”格式后重新输入")]
        digits = str(int(value))
        if len(digits) == 17:
            return MISSING, [(ERROR,
                "身份证号码被存成了数字且只有 17 位（可能丢了末位 X 或中间一位）；缺的是哪一位无法确定，"
                "不据校验位猜补，请把该列设为“文本”格式后重新输入")]
        if isinstance(value, float) or (len(digits) > 15 and set(digits[15:]) == {"0"}):
            return MISSING, [(ERROR,
                f"身份证号码被 Excel 存成了数字（{ids.mask_id(digits)}），第 15 位以后的数字已丢失，无法还原；"
                "请把该列设为“文本”格式，重新输入原号码")]
        problem = ids.id_problem(digits)
        if problem:
            return MISSING, [(ERROR, f"身份证号码 {ids.mask_id(digits)} 有误：{problem}")]
        return digits, [(WARNING, f"身份证号码 {ids.mask_id(digits)} 存成了数字（18 位完整，已按文字读取）；请把该列设为“文本”格式，以免 Excel 截断")]
    text = unicodedata.normalize("NFKC", text_of(value)).replace(" ", "").upper()
    if re.fullmatch(r"\d(\.\d+)?E\+?\d+", text):
        return MISSING, [(ERROR, f"身份证号码显示为科学计数法（{text[:4]}…），末尾数字已丢失，无法还原；请把该列设为“文本”格式后重新输入")]
    if re.fullmatch(r"\d{15}000", text) and ids.id_problem(text):
        return MISSING, [(ERROR,
            f"身份证号码 {ids.mask_id(text)} 以 000 结尾且校验位不对：像是被 Excel 存成数字后丢了末三位，无法还原；请重新输入原号码")]
    problem = ids.id_problem(text)
    if problem:
        return MISSING, [(ERROR, f"身份证号码 {ids.mask_id(text)} 有误：{problem}")]
    return text, []


def read_phone(value, *, numeric: bool, area_codes=()):
    """A phone is a mobile or an area-coded landline; a landline of the city missing its 0 is restored."""
    text = unicodedata.normalize("NFKC", text_of(value)).replace(" ", "")
    m = re.fullmatch(r"[（(](0\d{2,3})[)）]-?(\d{7,8})", text)
    if m:
        text = f"{m.group(1)}-{m.group(2)}"
    if ids.phone_ok(text):
        return text, []
    fixed = city.glued(text, area_codes)
    if fixed:
        return fixed, []
    fixed = city.lost_zero(text, area_codes)
    if fixed:
        return fixed, [(WARNING, f"联系电话 {ids.mask_phone(text)} 丢了开头的 0（Excel 把它当成了数字），"
                                 f"已改为 {ids.mask_phone(fixed)}（本市区号 {fixed.split('-')[0]}）；请核对")]
    why = "被 Excel 存成了数字，开头的 0 可能已丢失，" if numeric else ""
    example = f"{area_codes[0]}-{city.LOCAL_EXAMPLE}" if area_codes else "区号-电话号码"
    return MISSING, [(ERROR,
        f"联系电话 {ids.mask_phone(text)} {why}不是 11 位手机号，也不是带区号的固定电话（如 {example}），无法确定原号码；请核对后重新输入")]


def _excel_date(serial: float, epoch: datetime) -> date | None:
    if not 1 <= serial < 2958466:
        return None
    if epoch.year == 1899 and serial < 60:  # Excel's phantom 1900-02-29 is after serial 59
        serial += 1
    return (epoch + timedelta(days=int(serial))).date()


def read_date(value, *, epoch: datetime, month: bool = False):
    """A date: a date cell, an Excel serial number under a date header, or 2011-8-1 written out."""
    if isinstance(value, datetime):
        d = value.date()
    elif isinstance(value, date):
        d = value
    elif _number_cell(value) or re.fullmatch(r"\d{5}(\.0+)?", text_of(value)):
        serial = float(value)
        d = _excel_date(serial, epoch)
        if d is None or not 1900 <= d.year <= 2100 or (not float(serial).is_integer()):
            return MISSING, [(ERROR, f"日期 {text_of(value)} 既不是日期也不是 Excel 日期序号；请写成 2011-08-01")]
        return (d.strftime("%Y-%m") if month else d.isoformat()), []
    else:
        text = text_of(value)
        m = _DATE_TEXT.match(text)
        mm = _MONTH_TEXT.match(text) if month else None
        try:
            if m:
                d = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            elif mm:
                d = date(int(mm.group(1)), int(mm.group(2)), 1)
            else:
                raise ValueError
        except ValueError:
            example = "1968-03" if month else "2011-08-01"
            return MISSING, [(ERROR, f"“{text}”不是有效的日期；请写成 {example}")]
    return (d.strftime("%Y-%m") if month else d.isoformat()), []


def read_number(value, *, integer: bool):
    """A number from a number cell or plain digits; a unit such as 元 or 人 after it is dropped."""
    if _number_cell(value):
        if isinstance(value, float):
            number = Decimal(int(value)) if value.is_integer() else Decimal(repr(value))
        else:
            number = Decimal(value)
    else:
        text = text_of(value).replace(",", "").replace("，", "")
        text = re.sub(r"\s*(元|人|口)$", "", unicodedata.normalize("NFKC", text))
        try:
            number = Decimal(text)
        except InvalidOperation:
            return MISSING, [(ERROR, f"“{text_of(value)}”不是数字")]
        if not number.is_finite():
            return MISSING, [(ERROR, f"“{text_of(value)}”不是数字")]
    if integer:
        if number != number.to_integral_value():
            return MISSING, [(ERROR, f"“{text_of(value)}”应为整数")]
        return int(number), []
    return number, []


def read_boolean(value):
    """是/否, √/×, true/false, 1/0 and the like; anything else is refused."""
    if isinstance(value, bool):
        return value, []
    text = text_of(value).lower()
    if text in _TRUE:
        return True, []
    if text in _FALSE:
        return False, []
    return MISSING, [(ERROR, f"“{text_of(value)}”不是“是”或“否”")]


def is_empty(value) -> bool:
    """None, blank text, or text that is nothing once Excel's marks are off (' ="" ="'")."""
    if value is None:
        return True
    if not isinstance(value, str):
        return False
    text = value.strip()
    return not text or (len(text) <= 4 and text_of(value) == "")  # nothing longer can come to ""


def read(column: columns.Column, value, epoch: datetime, area_codes=()):
    """(value, notes) for one cell of a column; MISSING when the cell is empty or refused.
    area_codes: the city's telephone area codes (jinqiu.check.city), for a landline's lost 0."""
    if is_empty(value):
        return MISSING, []
    refused = formula_notes(value)
    if refused:
        return MISSING, refused
    return read_value(column, value, epoch, area_codes)


def read_value(column: columns.Column, value, epoch: datetime, area_codes=()):
    """read() for a cell already known to be neither empty nor a formula (is_empty, formula_notes)."""
    t = column.type
    if t == columns.TEXT and isinstance(value, str):  # most cells: names, schools, addresses
        return value.strip(), []
    numeric = _number_cell(value)
    if t == columns.ID_NUMBER:
        return read_id_number(value, numeric=numeric)
    if t == columns.PHONE:
        return read_phone(value, numeric=numeric, area_codes=tuple(area_codes))
    if t in (columns.DATE, columns.MONTH):
        return read_date(value, epoch=epoch, month=t == columns.MONTH)
    if t in (columns.INTEGER, columns.NUMBER):
        return read_number(value, integer=t == columns.INTEGER)
    if t == columns.BOOLEAN:
        return read_boolean(value)
    if isinstance(value, (datetime, date)):
        return MISSING, [(ERROR, f"这里应为文字，却是日期 {value:%Y-%m-%d}")]
    return text_of(value) if not isinstance(value, str) else value.strip(), []
