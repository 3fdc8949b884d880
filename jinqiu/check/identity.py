"""One identity per person: the one form in which a person's name and ID number are compared,
indexed and searched, and what a name field may hold.

Two strings that a reader takes for the same name are the same person to every rule. So names and
ID numbers are never compared as typed but in their canonical form (`canonical`): Unicode NFKC
(full-width letters and digits become ordinary ones, compatibility forms fold), every other kind of
decimal digit read as 0-9, then with every invisible character (format and control characters,
bidirectional controls, zero-width spaces and joiners, variation selectors, fillers), every kind of
space and every separator dot (the middle dots of minority names: ·, ・, ‧, •, ꞏ …, and the full
stop) removed, and letters in one case. 王小雨, 王小雨 + U+200B, 王　小雨 (U+3000), 王·小雨 and
王 · 小雨 have one canonical form; so have 210202197008254027, "210202197008254027\\n" and the same
number in full-width digits.

Who uses it: validate's rules between records (crossrules: the same child aided twice, 新生资助
twice, a continuing record's child, a graduate registered twice), the pull-request scope (prscope
searches for the canonical form of every ID number), renewals (a student already applied for this
year), the reviewer's conflict of interest (trust.chain) and the importer's match of a row to a
record. The value in the file is never changed: a legitimate · in a minority name stays as
written; only the comparison looks through it.

And a name field refuses, with the file and line (rules.names_plain), what no name needs and what
only hides a duplicate: control, format, bidirectional and other invisible characters, and any
space but a single ordinary one between the parts of a name written in Latin letters.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

# Default-ignorable code points that are letters or marks (not Cf), so invisible but not caught by
# the category test: the combining grapheme joiner, Hangul fillers, Khmer inherent vowels,
# Mongolian free variation selectors, variation selectors, the halfwidth Hangul filler.
_IGNORABLE_RANGES = (
    (0x034F, 0x034F), (0x115F, 0x1160), (0x17B4, 0x17B5), (0x180B, 0x180F), (0x3164, 0x3164),
    (0xFE00, 0xFE0F), (0xFFA0, 0xFFA0), (0xE0100, 0xE01EF), (0x2800, 0x2800),  # and the blank braille pattern
)
# Dots people put between the parts of a name (minority names: 阿依古丽·买买提) or of a number.
SEPARATOR_DOTS = frozenset(
    "\u00b7"  # · middle dot (the standard 间隔号)
    "\u0387"  # Greek ano teleia (NFKC: ·)
    "\u2027"  # ‧ hyphenation point
    "\u30fb"  # ・ katakana middle dot
    "\uff65"  # ･ halfwidth katakana middle dot (NFKC: ・)
    "\u2022"  # • bullet
    "\u2219"  # ∙ bullet operator
    "\u22c5"  # ⋅ dot operator
    "\ua78f"  # ꞏ Latin letter sinological dot
    "\u1427"  # ᐧ Canadian syllabics final middle dot
    "\u2e31"  # ⸱ word separator middle dot
    "\u2e30"  # ⸰ ring point
    "\u318d"  # ㆍ Hangul letter araea (typed for · on Korean keyboards)
    ".\uff0e\u2024"  # . ． ․ full stops
)


def _ignorable(cp: int) -> bool:
    return any(a <= cp <= b for a, b in _IGNORABLE_RANGES)


@lru_cache(maxsize=4096)
def _drop(ch: str) -> bool:
    """Does the canonical form drop this character (after NFKC)?"""
    cat = unicodedata.category(ch)
    return (cat[0] in "CZ"  # control, format, surrogate, private use, unassigned; every space and line separator
            or ch in SEPARATOR_DOTS
            or _ignorable(ord(ch)))


@lru_cache(maxsize=65536)
def canonical(text: str) -> str:
    """The form in which a name or an ID number is compared, indexed and searched: NFKC, every
    decimal digit as 0-9, invisible characters, spaces and separator dots removed, upper case."""
    if not isinstance(text, str):
        return text
    if text.isascii() and text.isalnum():
        return text.upper()  # most values: nothing to undo
    out = []
    for ch in unicodedata.normalize("NFKC", text):
        if _drop(ch):
            continue
        if ch.isdecimal() and not ch.isascii():
            ch = str(unicodedata.decimal(ch))
        out.append(ch)
    return "".join(out).casefold().upper()


def _describe(ch: str) -> str:
    cp = ord(ch)
    names = {0x200B: "零宽空格", 0x200C: "零宽非连接符", 0x200D: "零宽连接符", 0xFEFF: "零宽不换行空格（BOM）",
             0x3000: "全角空格", 0x00A0: "不换行空格", 0x2060: "字连接符", 0x00AD: "软连字符", 0x0009: "制表符",
             0x000A: "换行", 0x000D: "回车"}
    if cp in names:
        what = names[cp]
    elif 0x202A <= cp <= 0x202E or 0x2066 <= cp <= 0x2069 or cp in (0x200E, 0x200F, 0x061C):
        what = "文字方向控制符"
    elif unicodedata.category(ch) == "Cc":
        what = "控制字符"
    elif unicodedata.category(ch) == "Zs":
        what = "特殊空格"
    else:
        what = "不可见字符"
    return f"{what}（U+{cp:04X}）"


def name_problem(text: str) -> str | None:
    """Why a person's name is refused (the message says where and what is expected), or None.
    Refused: control, format, bidirectional and other invisible characters, any space but U+0020,
    a space at either end or two in a row. Allowed: every letter and mark, and separator dots."""
    if not isinstance(text, str) or text.isascii() and text.replace(" ", "").isalnum() and "  " not in text \
            and text == text.strip(" "):
        return None
    expected = "姓名只能由文字组成：少数民族姓名的各部分之间可用间隔号“·”，外文姓名各部分之间用一个半角空格"
    for i, ch in enumerate(text, 1):
        cat = unicodedata.category(ch)
        if ch != " " and (cat[0] in "CZ" or _ignorable(ord(ch))):
            return f"第 {i} 个字符是{_describe(ch)}，请删去；{expected}"
    if text != text.strip(" "):
        return f"开头或结尾有空格，请删去；{expected}"
    if "  " in text:
        return f"有连续的空格；{expected}"
    return None
