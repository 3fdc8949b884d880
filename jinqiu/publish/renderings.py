"""How people write a number or a name, so that the privacy scan reads them back as the data holds
them: every way a digit is written, the groups a number is split into, and a Chinese name in Latin
letters.

Digits (`digit_view`, one character for one, so offsets stay those of the text). After the scan's
normalize (NFKC: full-width ０-９, circled ①, superscripts and mathematical digits are 0-9 by then):
- 〇一二三四五六七八九 and the financial 零壹贰叁肆伍陆柒捌玖 (and 貳貮弍參陸) are always digits;
- 两 兩 (2), 幺 (1), ○ ◯ (0), 参 (3), and the radio operators' 洞 (0), 拐 (7), 勾 (9) only where
  they stand in a number: next to a digit or in one run with another Chinese digit (两份 stays);
- every other decimal digit of any script (Arabic-Indic ٠-٩, Devanagari …) is its 0-9.

Groups (`windows`, over `number_view`: the digit view in which the letters of markup tags are
blanks, so that 0411<em>8589</em>4438 reads as the page shows it, while the cells of a table stay
apart): a number is digit groups joined
by separators. Between groups of two or more
digits any run of characters that are neither letters nor digits counts (spaces of every kind,
punctuation of every kind, full-width or not: `0411，85894438`, `210281：19690526：2888`,
`0411 / 8412 3456`, a line break); a group of one digit (`1 3 9 4 …`) joins only through one to
three of the usual separators (spaces, hyphens and dashes, dots, slashes, underscores, middle
dots), so that a table's column of single-digit counts (`3,1,2,0`) is not read as one number.

Names in Latin letters (`latin_forms`, pypinyin): a name of Chinese characters as pinyin without
tones, the surname first or last (王小雨: wangxiaoyu, xiaoyuwang), every reading pypinyin knows of
the surname (单: dan, chan, shan; 欧阳 and the other compound surnames as one) and the usual
reading of each character of the given name, ü as v, u and yu; a minority name's parts
(阿依古丽·买买提) in their order and reversed. In text
(`latin_view`), letters are folded to lower case without accents, a markup tag's name is not a word,
and a short run (one to three characters) of anything but letters and digits between two words
joins them (Wang Xiaoyu, WANG, Xiaoyu, Xiao-yu Wang); a spelling counts only as whole words.
"""

from __future__ import annotations

import bisect
import importlib.util
import itertools
import json
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

from ..check.identity import SEPARATOR_DOTS

# ---------------------------------------------------------------- digits

CJK_DIGITS = {
    "〇": "0", "零": "0", "一": "1", "壹": "1", "二": "2", "贰": "2", "貳": "2", "貮": "2", "弍": "2",
    "三": "3", "叁": "3", "參": "3", "四": "4", "肆": "4", "五": "5", "伍": "5", "六": "6", "陆": "6",
    "陸": "6", "七": "7", "柒": "7", "八": "8", "捌": "8", "九": "9", "玖": "9",
}
# Digits only where they stand in a number (两份, 幺妹, ○ as a bullet, 参加, 山洞 are words).
CONTEXT_DIGITS = {"两": "2", "兩": "2", "幺": "1", "○": "0", "◯": "0", "参": "3", "洞": "0", "拐": "7", "勾": "9"}
_ALWAYS = str.maketrans(CJK_DIGITS)
_CONTEXT = str.maketrans(CONTEXT_DIGITS)
_CJK_RUN = re.compile("[" + "".join(CJK_DIGITS) + "".join(CONTEXT_DIGITS) + "]+")
_OTHER_DIGIT = re.compile(r"(?![0-9])\d")


def digit_view(text: str) -> str:
    """text with every digit, however written, as 0-9 (one character for one)."""
    if _CJK_RUN.search(text):
        def one(m):
            run = m.group()
            out = run.translate(_ALWAYS)
            in_number = out != run or _ascii_digit(text, m.start() - 1) or _ascii_digit(text, m.end())
            return out.translate(_CONTEXT) if in_number else out

        text = _CJK_RUN.sub(one, text)
    if _OTHER_DIGIT.search(text):
        text = _OTHER_DIGIT.sub(lambda m: str(unicodedata.decimal(m.group(), 0)), text)
    return text


# Inline markup (what Markdown's emphasis, code and links become): inside one run of text, not
# between the cells of a table or two paragraphs, which stay apart.
_MARKUP = re.compile(r"</?(?:a|abbr|b|bdi|bdo|cite|code|del|dfn|em|font|i|ins|kbd|mark|q|s|samp|small|span|strike|"
                     r"strong|sub|sup|tt|u|var|wbr)(?:\s[^<>]{0,500})?/?>", re.IGNORECASE)
_LETTERS_OFF = str.maketrans({c: " " for c in "ABCDEFGHIJKLMNOPQRSTUVWYZabcdefghijklmnopqrstuvwyz"})  # X: an ID number's


def number_view(text: str) -> str:
    """digit_view of text in which the letters of inline markup tags are blanks (one character for
    one): 0411<em>8589</em>4438 is the number the reader sees; digits inside a tag stay where they
    are; a table's cells and block elements stay apart (their tags' letters break a number)."""
    if "<" in text:
        text = _MARKUP.sub(lambda m: m.group().translate(_LETTERS_OFF), text)
    return digit_view(text)


_NUMBER_LIKE = re.compile(r"[0-9Xx\d" + "".join(CJK_DIGITS) + "".join(CONTEXT_DIGITS) + "]+")
_DIGITS_VALUE = re.compile(r"[0-9]+X?")


def as_number(text: str) -> str | None:
    """The digits of a value written with digits only (any of their forms, an ID number's X), or None."""
    if not _NUMBER_LIKE.fullmatch(text):
        return None
    digits = digit_view(text).upper()
    return digits if _DIGITS_VALUE.fullmatch(digits) else None


def _ascii_digit(text: str, i: int) -> bool:
    return 0 <= i < len(text) and "0" <= text[i] <= "9"


# ---------------------------------------------------------------- digit groups

# Characters people put between the parts of a number or a name (210202 19680408 0502,
# 151-4847-1100, 151.4847.1100, 任 芳琴, 任·芳琴), after normalize (full-width forms are half-width
# and zero-width characters gone by then).
SEPARATORS = (" \t\r\n\u00a0\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f"
              "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212._/" + "".join(sorted(SEPARATOR_DOTS - {"."})))
_THIN = re.compile("[" + re.escape(SEPARATORS) + "]{1,3}")
# Digit groups joined by any run of characters that are neither letters nor digits.
_RUN = re.compile(r"[0-9][0-9Xx]*(?:[\W_]++[0-9][0-9Xx]*)*")
_CHUNK = re.compile(r"[0-9][0-9Xx]*")


def windows(text: str, longest: int = 18):
    """(offset, digits, group lengths) for every run of consecutive digit groups of a number as
    written in text (already through digit_view), up to `longest` digits: each way a value could be
    spread over the groups. Groups join as the module says."""
    for m in _RUN.finditer(text):
        run = m.group()
        if len(run) < 5:
            if len(run) <= longest:
                yield m.start(), run.upper(), (len(run),)
            continue
        chunks = [(c.start(), c.end(), c.group()) for c in _CHUNK.finditer(run)]
        if len(chunks) == 1:
            if len(run) <= longest:
                yield m.start(), run.upper(), (len(run),)
            continue
        joins = [_THIN.fullmatch(run, a[1], b[0]) is not None or (len(a[2]) >= 2 and len(b[2]) >= 2)
                 for a, b in zip(chunks, chunks[1:])]
        for i, (start, _, first) in enumerate(chunks):
            digits, lengths = "", ()
            for k in range(i, len(chunks)):
                if k > i and not joins[k - 1]:
                    break
                digits += chunks[k][2]
                lengths += (len(chunks[k][2]),)
                if len(digits) > longest:
                    break
                yield m.start() + start, digits.upper(), lengths


# ---------------------------------------------------------------- names in Latin letters

COMPOUND_SURNAMES = frozenset(
    "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 夏侯 令狐 端木 独孤 南宫 万俟 闻人 西门 呼延 "
    "轩辕 澹台 公冶 太叔 申屠 钟离 宗政 濮阳 淳于 单于 赫连 拓跋 百里 东郭 第五".split())
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]+")
_DOTS = re.compile("[" + re.escape("".join(SEPARATOR_DOTS)) + r"\s]+")
_MAX_SURNAME_SPELLINGS = 8


@lru_cache(maxsize=1)
def _pinyin_table() -> dict:
    """pypinyin's table of each character's readings ("单": "dān,chán,shàn"), read from the data file
    it ships: importing the package loads its phrase dictionary too, a third of a second each build
    for nothing a name needs."""
    spec = importlib.util.find_spec("pypinyin")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / "pinyin_dict.json"
        if path.is_file():
            return {chr(int(k)): v for k, v in json.loads(path.read_text(encoding="utf-8")).items()}
    from pypinyin.pinyin_dict import pinyin_dict  # another layout: the package's own loader

    return {chr(k): v for k, v in pinyin_dict.items()}


def _untoned(reading: str) -> str:
    """A reading without its tone, ü as v (pypinyin's Style.NORMAL): zhōng → zhong, lǜ → lv."""
    decomposed = unicodedata.normalize("NFD", reading.lower()).replace("u\u0308", "v")
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=None)
def _readings(ch: str) -> tuple[tuple[str, ...], ...]:
    """Each pinyin reading of one character (the most usual first), without tones, each as its
    spellings: ü as v, u and yu."""
    out = []
    for r in dict.fromkeys(_untoned(r) for r in _pinyin_table().get(ch, "").split(",") if r):
        if r.isascii() and r.isalpha():
            out.append(tuple(dict.fromkeys([r, r.replace("v", "u"), r.replace("v", "yu")])) if "v" in r else (r,))
    return tuple(out)


@lru_cache(maxsize=None)
def _surname_spellings(chars: str) -> tuple[str, ...]:
    """Every reading of the surname (单: dan, chan, shan), up to a few."""
    options = [tuple(sp for reading in _readings(c) for sp in reading) for c in chars]
    if not all(options):
        return ()
    return tuple("".join(p) for p in itertools.islice(itertools.product(*options), _MAX_SURNAME_SPELLINGS))


@lru_cache(maxsize=None)
def _usual(ch: str) -> tuple[str, ...]:
    readings = _readings(ch)
    return readings[0] if readings else ()


@lru_cache(maxsize=65536)
def _given_spellings(chars: str) -> tuple[str, ...]:
    """The given name in each character's usual reading (its ü spellings too)."""
    options = [_usual(c) for c in chars]
    if not all(options):
        return ()
    if all(len(o) == 1 for o in options):
        return ("".join(o[0] for o in options),)
    return tuple("".join(p) for p in itertools.product(*options))


def latin_forms(name: str) -> frozenset[str]:
    """How a name of Chinese characters is written in Latin letters, as latin_view writes text
    (lower case, words joined): surname first and last, every reading of the surname and the usual
    reading of the given name (see the module). A name with anything but Chinese characters and
    separator dots has none."""
    if _HAN.fullmatch(name):
        if len(name) < 2:
            return frozenset()
        cut = 2 if len(name) > 2 and name[:2] in COMPOUND_SURNAMES else 1
        first, second = _surname_spellings(name[:cut]), _given_spellings(name[cut:])
    else:
        parts = [p for p in _DOTS.split(name) if p]
        if len(parts) < 2 or not all(_HAN.fullmatch(p) for p in parts):
            return frozenset()
        first, second = _given_spellings(parts[0]), _given_spellings("".join(parts[1:]))  # 阿依古丽·买买提
    out = set()
    for a in first:
        for b in second:
            out.add(a + b)
            out.add(b + a)
    return frozenset(out)


_LATIN_RANGE = "a-z\u00c0-\u024f\u1e00-\u1eff"
_ACCENTED = re.compile("[\u00c0-\u024f\u1e00-\u1eff]")
_TAG = re.compile(r"</?[a-z][a-z0-9:_-]*")  # a markup tag's name (<li>, </td>, <x:c): not a word
_JUNCTION = re.compile(r"(?<=[a-z])[\W_]{1,3}(?=[a-z])")


def _fold(ch: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c)).lower()


def latin_view(text: str) -> tuple[str, str]:
    """(words, joined): the text in lower case without accents, tag names made non-words and each
    short run between two words a single "|" (words); and the same without the "|" (joined)."""
    low = text.lower()
    if _ACCENTED.search(low):
        low = _ACCENTED.sub(lambda m: _fold(m.group()), low)
    if "<" in low:
        low = _TAG.sub("0", low)
    words = _JUNCTION.sub("|", low)
    return words, words.replace("|", "")


class LatinHits:
    """Where in latin_view's joined text a spelling found by an automaton is whole words: it starts
    where a word starts and ends where one ends (the "|" marks are read only once a candidate is
    found, as most files hold none)."""

    def __init__(self, words: str, joined: str):
        self.words, self.joined = words, joined
        self._removed = None

    def _to_words(self, i: int) -> int:
        if self._removed is None:
            self._removed = [m.start() - k for k, m in enumerate(re.finditer(r"\|", self.words))]
        return i + bisect.bisect_right(self._removed, i)

    def whole(self, end: int, length: int) -> bool:
        """Is joined[end - length + 1 : end + 1] a run of whole words?"""
        start = end - length + 1
        if start > 0 and self.joined[start - 1].isalpha() and self.joined[start - 1].isascii():
            a = self._to_words(start)
            if self.words[a - 1] != "|":
                return False
        if end + 1 < len(self.joined) and self.joined[end + 1].isalpha() and self.joined[end + 1].isascii():
            b = self._to_words(end)
            if b + 1 < len(self.words) and self.words[b + 1] != "|":
                return False
        return True


def latin_offset(text: str, form: str) -> int:
    """Where a spelling found by the automaton is in the original text (for the line number)."""
    pattern = r"[\W_]{0,3}".join(re.escape(c) for c in form)
    low = text.lower()
    if _ACCENTED.search(low):
        low = _ACCENTED.sub(lambda m: _fold(m.group())[:1] or " ", low)  # one character for one
    m = re.search(pattern, low)
    return m.start() if m else 0
