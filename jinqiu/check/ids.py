"""Chinese resident ID numbers (GB 11643-1999), phone numbers and masking for messages."""

from __future__ import annotations

import re
from datetime import date

from ..records import sealed

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_ID_RE = re.compile(r"^[0-9]{17}[0-9X]$")

# Dalian's county-level divisions (the first six digits of an ID number issued there).
DALIAN_REGIONS = {
    "210202": "中山区",
    "210203": "西岗区",
    "210204": "沙河口区",
    "210211": "甘井子区",
    "210212": "旅顺口区",
    "210213": "金州区",
    "210214": "普兰店区",
    "210224": "长海县",
    "210281": "瓦房店市",
    "210283": "庄河市",
}

MOBILE_RE = re.compile(r"^1[3-9][0-9]{9}$")
# Area code 0 + 2 or 3 digits, a hyphen, then 7 or 8 digits (an extension may follow).
LANDLINE_RE = re.compile(r"^0[1-9][0-9]{1,2}-[2-9][0-9]{6,7}(-[0-9]{1,6})?$")


def check_digit(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits."""
    total = sum(int(c) * w for c, w in zip(first17, _WEIGHTS))
    return _CHECK[total % 11]


def id_problem(number: str) -> str | None:
    """Why an 18-character ID number is not valid, or None when it is."""
    if not _ID_RE.match(number):
        return "应为 18 位：17 位数字加一位数字或大写 X"
    if check_digit(number[:17]) != number[17]:
        # Never name the "right" last digit: the usual cause is one wrong digit or two swapped
        # ones anywhere in the number, and changing the last digit to fit makes a wrong number pass.
        return "校验位不符：号码中有一位数字写错，或相邻两位数字颠倒；请对照身份证原件逐位核对（不要只改最后一位）"
    if id_birth_date(number) is None:
        return f"出生日期 {number[6:14]} 不存在"
    return None


def id_birth_date(number: str) -> date | None:
    """The birth date an ID number carries, or None if it is not a real date."""
    try:
        return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None


def id_gender(number: str) -> str:
    """男 when the 17th digit is odd, 女 when it is even."""
    return "男" if int(number[16]) % 2 else "女"


def phone_ok(text: str) -> bool:
    """A mobile number (11 digits starting with 1) or an area-coded landline such as 0411-84123456."""
    return bool(MOBILE_RE.match(text) or LANDLINE_RE.match(text))


SEALED_SHOWN = "（加密保存）"  # what a message shows for a sealed value (a jq1 envelope) instead of masking its text


def mask_id(number: str) -> str:
    """Keep the region code's first four and the last four characters: 2102**********123X."""
    if sealed.is_enc(number) or sealed.is_small_enc(number):
        return SEALED_SHOWN
    if len(number) <= 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def mask_name(name: str) -> str:
    """张三 → 张*, 张三明 → 张*明, 欧阳小明 → 欧**明."""
    if sealed.is_enc(name) or sealed.is_small_enc(name):
        return SEALED_SHOWN
    if len(name) <= 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_phone(phone: str) -> str:
    """Keep the first three and last two characters: 138******21."""
    if sealed.is_enc(phone) or sealed.is_small_enc(phone):
        return SEALED_SHOWN
    if len(phone) <= 5:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 5) + phone[-2:]
