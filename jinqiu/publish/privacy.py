"""No personal data on the public site: the projection every public template reads through, and
the scanner that reads every built file and fails the build if any personal data got through."""

from __future__ import annotations

import bz2
import gzip
import hashlib
import html
import io
import json
import lzma
import re
import unicodedata
import urllib.parse
import zipfile
import zlib
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

from ..check import ids
from ..records import layout
from . import renderings

# ---------------------------------------------------------------- projection


@lru_cache(maxsize=None)
def _schema(kind: str) -> dict:
    # Our own copy: fastjsonschema.compile rewrites the $refs of the shared layout.schema() dict.
    return json.loads((layout.SCHEMA_DIR / layout.KINDS[kind][0]).read_text(encoding="utf-8"))


def project(kind: str, data: dict) -> dict:
    """Only the fields the schema marks `x-public: true` (with the objects that lead to them)."""
    kept = data.get(PUBLIC_KEY) if isinstance(data, dict) else None
    if kept is not None:
        return dict(kept)
    root = _schema(kind)
    return _project(data, root, root)


# A record kept without its personal fields (the build's per-record results, jinqiu.publish.incremental)
# carries its projection under this key, worked out while the whole record was at hand.
PUBLIC_KEY = "_public"


def public_spec(kind: str):
    """What project keeps of a record of this kind, as a jinqiu.records.dataset.restrict spec: the
    fields marked `x-public` and the objects that lead to them (project of a record restricted to
    it is project of the record)."""
    root = _schema(kind)
    return _public_spec(root, root, ()) or {}


def _public_spec(node: dict, root: dict, seen: tuple):
    ref = node.get("$ref")
    if ref in seen:
        return True  # a recursive schema (none of ours): keep the whole value
    seen = seen + (ref,) if ref else seen
    node = _resolve(node, root)
    if node.get("x-public"):
        return True
    if isinstance(node.get("items"), dict):
        item = _public_spec(node["items"], root, seen)
        return [item] if item else None
    spec = {}
    for key, sub in node.get("properties", {}).items():
        if _resolve(sub, root).get("x-personal"):
            continue
        kept = _public_spec(sub, root, seen)
        if kept:
            spec[key] = kept
    return spec or None


def _project(value, node: dict, root: dict):
    node = _resolve(node, root)
    if isinstance(value, dict):
        props = node.get("properties", {})
        out = {}
        for key, child in value.items():
            sub = props.get(key)
            if sub is None:
                extra = node.get("additionalProperties")
                if isinstance(extra, dict) and node.get("x-public"):
                    out[key] = child  # a public map of plain values (amount tables, typed figures)
                continue
            sub = _resolve(sub, root)
            if sub.get("x-personal"):
                continue
            if sub.get("x-public"):
                out[key] = child
            elif isinstance(child, (dict, list)):
                kept = _project(child, sub, root)
                if kept:
                    out[key] = kept
        return out
    if isinstance(value, list):
        items = node.get("items", {})
        kept = [_project(v, items, root) for v in value]
        return [k for k in kept if k not in ({}, [], None)]
    return None


def _resolve(node: dict, root: dict) -> dict:
    ref = node.get("$ref")
    if ref and "#/$defs/" in ref:
        return {**root["$defs"][ref.split("#/$defs/")[-1]], **{k: v for k, v in node.items() if k != "$ref"}}
    return node


# ---------------------------------------------------------------- what counts as personal data

# Field names whose values are names, ID numbers, phones or addresses (the scanner looks for them).
NEEDLE_FIELDS = {"name", "worker_name", "id_number", "worker_id_number", "phone", "address", "filled_by", "family_id_numbers"}


def personal_values(dataset) -> set[str]:
    """Every name, ID number, phone and address in the data's personal (`x-personal`) fields."""
    found: set[str] = set()
    for rec in dataset.records:
        if rec.data is None or rec.kind not in layout.KINDS:
            continue
        found |= record_personal_values(rec.kind, rec.data)
    return found


def record_personal_values(kind: str, data: dict) -> set[str]:
    """personal_values of one record (the values of a tree are those of its records together)."""
    found: set[str] = set()
    plan = _plan(kind)
    if plan is None:
        root = _schema(kind)
        _collect(data, root, root, found, False)
    else:
        _gather(data, plan, found)
    return {normalize(v) for v in found if len(v) >= 2}


def _collect(value, node, root, found, personal):
    """The schema walk _plan compiles: every string below a NEEDLE_FIELDS key the schema marks
    `x-personal` (kept as the definition the plan is tested against)."""
    node = _resolve(node, root)
    if isinstance(value, dict):
        props = node.get("properties", {})
        for key, child in value.items():
            sub = props.get(key, {})
            mark = personal or (key in NEEDLE_FIELDS and _resolve(sub, root).get("x-personal", False))
            _collect(child, sub, root, found, mark)
    elif isinstance(value, list):
        for v in value:
            _collect(v, node.get("items", {}), root, found, personal)
    elif personal and isinstance(value, str):
        found.add(value)


# A plan is (keys, items): keys maps a property name to True (every string below it is personal)
# or to the plan of its value; items is the plan of a list's items. Only the keys that can lead to
# a personal value are in it, so a record is read along a few paths instead of walked whole.
_EMPTY_PLAN = ({}, None)


class _Recursive(Exception):
    pass


@lru_cache(maxsize=None)
def _plan(kind: str):
    """The kind's plan, or None for a recursive schema (then _collect walks it)."""
    root = _schema(kind)
    try:
        return _compile(root, root, ())
    except _Recursive:
        return None


def _compile(node: dict, root: dict, seen: tuple):
    ref = node.get("$ref")
    if ref in seen:  # a recursive $ref (none in our schemas): the plan would never end
        raise _Recursive
    seen = seen + (ref,) if ref else seen
    node = _resolve(node, root)
    keys = {}
    for key, sub in node.get("properties", {}).items():
        if key in NEEDLE_FIELDS and _resolve(sub, root).get("x-personal", False):
            keys[key] = True
        else:
            plan = _compile(sub, root, seen)
            if plan is not _EMPTY_PLAN:
                keys[key] = plan
    items = _compile(node["items"], root, seen) if isinstance(node.get("items"), dict) else None
    if items is _EMPTY_PLAN:
        items = None
    return (keys, items) if keys or items else _EMPTY_PLAN


def _gather(value, plan, found) -> None:
    keys, items = plan
    if isinstance(value, dict):
        if keys:
            for key, sub in keys.items():
                child = value.get(key)
                if child is None:
                    continue
                if sub is True:
                    _all_strings(child, found)
                else:
                    _gather(child, sub, found)
    elif isinstance(value, list) and items is not None:
        for v in value:
            _gather(v, items, found)


def _all_strings(value, found) -> None:
    if isinstance(value, str):
        found.add(value)
    elif isinstance(value, dict):
        for v in value.values():
            _all_strings(v, found)
    elif isinstance(value, list):
        for v in value:
            _all_strings(v, found)


# ---------------------------------------------------------------- undoing what hides text

# Characters that show nothing: zero-width ones, soft hyphens, the bidirectional controls, variation
# selectors, fillers and tag characters (what jinqiu.check.identity drops from a name too).
ZERO_WIDTH = re.compile("[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
                        "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff9-\ufffb\U000e0000-\U000e0fff]")
_U_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
_X_ESCAPE = re.compile(r"\\x([0-9a-fA-F]{2})")
_C_ESCAPE = re.compile(r"\\([tnr/])")  # JSON's and JavaScript's \t \n \r \/
_C_CHARS = {"t": "\t", "n": "\n", "r": "\r", "/": "/"}


def normalize(text: str) -> str:
    """Undo JSON \\u escapes, HTML entities, URL encoding, full-width forms and zero-width characters."""
    if ("\\" not in text and "&" not in text and "%" not in text and unicodedata.is_normalized("NFKC", text)
            and not ZERO_WIDTH.search(text)):
        return text  # nothing to undo (most values): every step below would leave it as it is
    for _ in range(3):  # nested encodings (an entity inside URL encoding inside JSON ...)
        before = text
        text = _U_ESCAPE.sub(lambda m: _unsurrogate(m.group(1)), text)
        text = _X_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
        text = _C_ESCAPE.sub(lambda m: _C_CHARS[m.group(1)], text)
        text = html.unescape(text)
        if "%" in text:
            text = urllib.parse.unquote(text)
        text = unicodedata.normalize("NFKC", text)
        text = ZERO_WIDTH.sub("", text)
        if text == before:
            break
    return text


def _unsurrogate(hexdigits: str) -> str:
    code = int(hexdigits, 16)
    return chr(code) if not 0xD800 <= code <= 0xDFFF else ""


# What people put between the parts of a number or a name, and how digits are written: renderings.
SEPARATORS = renderings.SEPARATORS
_SEP_RUN = re.compile("[" + re.escape(SEPARATORS) + "]+")
_MAX_ARCHIVE_DEPTH = 4


def squeeze(text: str) -> str:
    """The text without separators: what names and addresses are looked for in."""
    return _SEP_RUN.sub("", text)


def _expand(raw: bytes, depth: int = 0) -> list[bytes]:
    """The contents of raw: itself, or every member of a zip (.xlsx, .zip), or what gzip, bzip2, xz
    or zlib compress, unpacked again as deep as archives go (to a few levels)."""
    if depth < _MAX_ARCHIVE_DEPTH:
        if raw[:4] == b"PK\x03\x04":
            try:
                with zipfile.ZipFile(io.BytesIO(raw)) as zf:
                    return [b for info in zf.infolist() if not info.is_dir()
                            for b in _expand(zf.read(info), depth + 1)]
            except (zipfile.BadZipFile, OSError, ValueError, RuntimeError, NotImplementedError):
                pass
        for magic, opener in ((b"\x1f\x8b", gzip.decompress), (b"BZh", bz2.decompress),
                              (b"\xfd7zXZ", lzma.decompress), (b"\x78", zlib.decompress)):
            if raw.startswith(magic):
                try:
                    return _expand(opener(raw), depth + 1)
                except (OSError, EOFError, ValueError, lzma.LZMAError, zlib.error):
                    pass
    return [raw]


def read_text(path: Path, raw: bytes | None = None) -> str:
    """A file's text (raw: its bytes, when already read); an archive's (zip, .xlsx, gzip, bzip2, xz,
    zlib) is the text of everything in it."""
    parts = []
    for raw in _expand(path.read_bytes() if raw is None else raw):
        text = raw.decode("utf-16") if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else raw.decode("utf-8", errors="replace")
        if "\\u" in text and text.lstrip()[:1] in ("{", "["):
            try:
                text = json.dumps(json.loads(text), ensure_ascii=False)
            except ValueError:
                pass
        parts.append(text)
    return "\n".join(parts)


# ---------------------------------------------------------------- the scanner


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    what: str  # 身份证号码, 电话号码, 数据中的个人信息

    def text(self) -> str:
        return f"{self.path}:{self.line}: error: 公开网站中发现{self.what}"


_LANDLINE = re.compile(r"(?<![0-9])0[1-9][0-9]{1,2}[-(（)） ]{1,2}[2-9][0-9]{2,3}[- ]?[0-9]{4}(?![0-9])")
# How people group an ID number or a phone (a shape found without the data, so only usual groupings:
# the numbers of a chart or a script are groups too, and any 11 of their digits could start with 13)
_ID_GROUPS = {(18,), (6, 8, 4), (6, 12), (6, 4, 4, 4), (17, 1), (6, 8, 3, 1)}
_MOBILE_GROUPS = {(11,), (3, 4, 4), (3, 8), (7, 4), (4, 4, 3)}
_MOBILE = re.compile(r"1[3-9][0-9]{9}")
# A landline: the area code (0 and two or three digits) as a group of its own, then 7 or 8 digits.
_LANDLINE_GROUPS = {(3, 7), (3, 8), (4, 7), (4, 8), (3, 3, 4), (3, 4, 4), (4, 3, 4), (4, 4, 4)}
_AREA_CODE = re.compile(r"0[1-9][0-9]{1,2}")
# ... or written without a break: 010 and 02x have 8 digits after them, the other area codes 7 or 8.
_LANDLINE_WHOLE = re.compile(r"0(?:10|2[0-9])[2-9][0-9]{7}|0[3-9][0-9]{2}[2-9][0-9]{6,7}")


class ScanValues(frozenset):
    """The personal values to look for (scannable), and the Latin spellings of names that are part
    of the site's fixed text (a name 平芳 is "PingFang", a font): those names are looked for in
    Chinese characters only."""

    def __new__(cls, values=(), no_latin=(), needles=None):
        self = super().__new__(cls, values)
        self.no_latin = frozenset(no_latin)
        self.needles = needles  # the Needles scannable built for them (not built twice)
        return self


class Needles:
    """The personal values to look for. Numbers (ID numbers, phones) are compared with every run of
    digit groups of the text, however its digits are written (renderings: 151 4847 1100, 0411，
    85894438 and 〇四一一八五八九四四三八 are numbers); names and addresses are found without their
    separators (任 芳琴 is 任芳琴), and names in Latin letters too (renderings.latin_forms: Wang
    Xiaoyu), by Aho-Corasick automatons (pyahocorasick), in time linear in the length of the text,
    whatever the number of values."""

    def __init__(self, values):
        import ahocorasick

        no_latin = getattr(values, "no_latin", frozenset())
        self.skip_words: set[str] = set()  # set aside (scannable): part of the site's fixed text
        self.skip_latin: set[str] = set(no_latin)
        self.digits: set[str] = set()
        self.words = ahocorasick.Automaton()
        self.latin = ahocorasick.Automaton()
        self.longest = 0
        self.squeezed: dict[str, str] = {}  # value -> its squeezed form, for the values separators change
        for v in values:
            if len(v) < 2:
                continue
            word = v if v.isalnum() else squeeze(v)
            if word is not v:
                self.squeezed[v] = word
            number = word.upper() if v[0].isdigit() else renderings.as_number(word)
            if number is not None:
                self.digits.add(number)
                self.longest = max(self.longest, len(number))
                continue
            if len(word) >= 2:
                self.words.add_word(word, word)
            for form in renderings.latin_forms(v):
                if form not in no_latin:
                    self.latin.add_word(form, form)
        self.has_words = len(self.words) > 0
        if self.has_words:
            self.words.make_automaton()
        self.has_latin = len(self.latin) > 0
        if self.has_latin:
            self.latin.make_automaton()

    def dump(self) -> tuple[bytes, bytes, dict]:
        """(each automaton as pyahocorasick saves it, the rest as JSON): for Needles.restore."""
        return _automaton_bytes(self.words if self.has_words else None), \
            _automaton_bytes(self.latin if self.has_latin else None), \
            {"digits": sorted(self.digits), "longest": self.longest, "skip_words": sorted(self.skip_words),
             "skip_latin": sorted(self.skip_latin)}

    @classmethod
    def restore(cls, words: bytes, latin: bytes, rest: dict) -> "Needles":
        """Needles as dump() gave them (the bytes only ever from this user's HMAC-bound store: the
        automaton files are read by pyahocorasick, their words decoded as UTF-8, never unpickled)."""
        self = cls.__new__(cls)
        self.digits, self.longest = set(rest["digits"]), int(rest["longest"])
        self.skip_words, self.skip_latin = set(rest["skip_words"]), set(rest["skip_latin"])
        self.words, self.has_words = _automaton(words), bool(words)
        self.latin, self.has_latin = _automaton(latin), bool(latin)
        return self

    def set_aside(self, words=(), latin=()) -> None:
        """Look no more for these names or addresses (squeezed) and Latin spellings."""
        self.skip_words |= set(words)
        self.skip_latin |= set(latin)

    def words_in(self, text: str) -> set[str]:
        """Every name or address that occurs in text (separators ignored)."""
        if not self.has_words:
            return set()
        return {w for _, w in self.words.iter(squeeze(text)) if w not in self.skip_words}

    def latin_in(self, text: str) -> set[str]:
        """Every Latin spelling of a name that occurs in text as whole words."""
        if not self.has_latin:
            return set()
        words, joined = renderings.latin_view(text)
        hits = renderings.LatinHits(words, joined)
        return {form for end, form in self.latin.iter(joined) if form not in self.skip_latin and hits.whole(end, len(form))}

    def find(self, text: str):
        """(offset, value) of the first personal value in text, or None; at one place the longest."""
        if self.digits:
            for offset, digits, _ in renderings.windows(renderings.number_view(text), self.longest):
                if digits in self.digits:
                    return offset, digits
        return self.find_word(text) or self.find_latin(text)

    def find_word(self, text: str):
        """(offset, name or address) of the first name or address in text (the longest at one place)."""
        if self.has_words:
            squeezed = squeeze(text)
            best = None
            for end, word in self.words.iter(squeezed):
                if word in self.skip_words:
                    continue
                start = end - len(word) + 1
                if best is None or (start, -len(word)) < (best[0], -len(best[1])):
                    best = (start, word)
                elif start > best[0] + 64:
                    break
            if best is not None:
                return _unsqueezed_offset(text, best[0]), best[1]
        return None

    def find_latin(self, text: str):
        """(offset, spelling) of a name written in Latin letters in text, or None."""
        if self.has_latin and _HAS_LATIN.search(text):
            words, joined = renderings.latin_view(text)
            hits = renderings.LatinHits(words, joined)
            for end, form in self.latin.iter(joined):
                if form not in self.skip_latin and hits.whole(end, len(form)):
                    return renderings.latin_offset(text, form), form
        return None


_HAS_LATIN = re.compile("[A-Za-z\u00c0-\u024f]{2}")


def _automaton_bytes(automaton) -> bytes:
    """An automaton as pyahocorasick saves it (b"" for none), its words written as UTF-8."""
    import os
    import tempfile

    if automaton is None:
        return b""
    fd, path = tempfile.mkstemp(prefix="jinqiu-needles-")
    os.close(fd)
    try:
        automaton.save(path, _word_bytes)
        with open(path, "rb") as f:
            return f.read()
    finally:
        os.unlink(path)


def _automaton(raw: bytes):
    import os
    import tempfile

    import ahocorasick

    if not raw:
        return ahocorasick.Automaton()
    fd, path = tempfile.mkstemp(prefix="jinqiu-needles-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
        return ahocorasick.load(path, _word_text)
    finally:
        os.unlink(path)


def _word_bytes(word: str) -> bytes:
    return word.encode("utf-8", "surrogatepass")


def _word_text(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogatepass")


def _unsqueezed_offset(text: str, offset: int) -> int:
    """Where the character at `offset` of squeeze(text) is in text."""
    removed = 0
    for m in _SEP_RUN.finditer(text):
        if m.start() - removed > offset:
            break
        removed += m.end() - m.start()
    return offset + removed


def scan_text(text: str, needles: Needles) -> list[tuple[int, str]]:
    """(offset, what) for each kind of personal data found in already normalized text: one pass over
    its numbers, their digits read however written (shapes and the data's numbers at once), one over
    its words, one over its words in Latin letters."""
    found = []
    id_hit = phone_hit = value_hit = None
    values = needles.digits
    digits_text = renderings.number_view(text)
    for offset, digits, lengths in renderings.windows(digits_text, max(18, needles.longest)):
        n = len(digits)
        if id_hit is None and n == 18 and lengths in _ID_GROUPS and ids.id_problem(digits) is None:
            id_hit = offset
        elif phone_hit is None and (n == 11 and lengths in _MOBILE_GROUPS and _MOBILE.fullmatch(digits)
                                    or lengths in _LANDLINE_GROUPS and _AREA_CODE.fullmatch(digits, 0, lengths[0])
                                    and digits[lengths[0]] in "23456789"
                                    or len(lengths) == 1 and n in (11, 12) and _LANDLINE_WHOLE.fullmatch(digits)):
            phone_hit = offset
        if value_hit is None and digits in values:
            value_hit = offset
        if id_hit is not None and phone_hit is not None and value_hit is not None:
            break
    if id_hit is not None:
        found.append((id_hit, "有效的身份证号码"))
    m = _LANDLINE.search(digits_text)
    if phone_hit is not None or m:
        found.append((min(x for x in (phone_hit, m and m.start()) if x is not None), "电话号码"))
    if value_hit is None and needles.has_words:
        hit = needles.find_word(text)
        value_hit = hit and hit[0]
    if value_hit is not None:
        found.append((value_hit, "数据中的个人信息（姓名、身份证号码、电话或住址）"))
    hit = needles.find_latin(text)
    if hit is not None:
        found.append((hit[0], "数据中的姓名（拼音）"))
    return found


def theme_assets() -> Path:
    """The theme's own scripts and style sheets (what mkdocs copies into site/assets)."""
    import material

    return Path(material.__file__).parent / "templates" / "assets"


def sources_digest(sources) -> str:
    """A digest of what fixed_text reads (the files of sources and of the theme's assets)."""
    from openpyxl.writer.theme import theme_xml

    h = hashlib.sha256(theme_xml.encode())
    for folder in [*sources, theme_assets()]:
        for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
            h.update(str(path).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def fixed_text(sources) -> str:
    """The site's own fixed wording: our page templates and static pages, the theme's assets and the
    spreadsheet writer's theme (its font names), read from where they are kept (never from the built site, and nothing derived from the data:
    a union's name or the campaign's notice is data like any other). A name that occurs in it (a
    child called 余天, inside 剩余天数) cannot be told apart from it, so the scan cannot look for it."""
    from openpyxl.writer.theme import theme_xml  # the fonts and colours every .xlsx download carries

    parts = [normalize(theme_xml)]
    for folder in [*sources, theme_assets()]:
        for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
            parts.append(normalize(read_text(path)))
    return "\n".join(parts)


def scannable(values, fixed: str) -> tuple[ScanValues, set[str]]:
    """(values to look for, names and addresses that are part of the site's fixed text, and the Latin
    spellings of names that are: those names are looked for in Chinese characters only)."""
    needles = Needles(values)
    inside = needles.words_in(fixed)
    hidden = {v for v in inside & set(values) if not v[0].isdigit()}
    hidden |= {v for v, word in needles.squeezed.items() if word in inside and not v[0].isdigit()}
    latin = needles.latin_in(fixed)
    needles.set_aside({squeeze(v) for v in hidden}, latin)
    return ScanValues(set(values) - hidden, no_latin=latin, needles=needles), hidden | latin


@lru_cache(maxsize=None)
def _theme_files() -> frozenset:
    """(size, SHA-256) of every file of the theme's assets."""
    return frozenset((p.stat().st_size, hashlib.sha256(p.read_bytes()).digest())
                     for p in theme_assets().rglob("*") if p.is_file())


def scan(site: Path, values) -> list[Finding]:
    """Every file under site, read whole after undoing encodings and unpacking archives: where
    personal data shows up. A file byte for byte one of the theme's own (its scripts, style sheets
    and their source maps, a megabyte of text that no data reaches) is not read."""
    needles = values if isinstance(values, Needles) else getattr(values, "needles", None) or Needles(values)
    theme = _theme_files()
    sizes = {size for size, _ in theme}
    findings = []
    for path in sorted(p for p in site.rglob("*") if p.is_file()):
        raw = None
        if path.stat().st_size in sizes:
            raw = path.read_bytes()
            if (len(raw), hashlib.sha256(raw).digest()) in theme:
                continue
        text = normalize(read_text(path, raw))
        for offset, what in scan_text(text, needles):
            findings.append(Finding(str(path), text.count("\n", 0, offset) + 1, what))
    return findings


# ---------------------------------------------------------------- the public notice (公示)


# 学历 of children of school age: never named on the public site, whatever the form says.
MINOR_STAGES = {"小学", "初中", "高中", "中职"}
COLLEGE_STAGES = ("高职", "大专", "本科", "研究生")
ADULT_AGE = 18
# Why an approved student is not on the 公示 list, in the order they are tested (each counted once).
LEFT_OUT_REASONS = {
    "minor": "未成年（小学、初中、高中和中职阶段，或未满 18 周岁）",
    "no_consent": "本人未同意公示",
    "unproven": "没有学生身份证号码或出生日期，无法确认已满 18 周岁",
}


def adulthood(student: dict, on: str) -> str:
    """"adult" when the student's ID number or birth date on file gives 18 or over on the given day
    (the first day of the 公示); "minor" when at school below college level (or at a 学历 we do not
    know) or under 18 by them; "unproven" when neither is on file: a college student may be 17, so
    adulthood is never assumed from the school level."""
    if student.get("education") not in COLLEGE_STAGES:
        return "minor"
    born = None
    number = student.get("id_number")
    if isinstance(number, str) and ids.id_problem(number) is None:
        born = ids.id_birth_date(number)
    elif isinstance(student.get("birth_date"), str):
        try:
            born = date.fromisoformat(student["birth_date"])
        except ValueError:
            born = None
    if born is None:
        return "unproven"
    day = date.fromisoformat(on)
    age = day.year - born.year - ((day.month, day.day) < (born.month, born.day))
    return "adult" if age >= ADULT_AGE else "minor"


def is_minor(student: dict, on: str) -> bool:
    """Not proven an adult on the day (adulthood): never named."""
    return adulthood(student, on) != "adult"


def notice_rows(dataset, year: int, statuses: dict, units: dict, on: str) -> tuple[list[dict], dict]:
    """The 公示 list and how many approved applications it leaves out, by reason (LEFT_OUT_REASONS):
    for each application approved all the way whose student is proven an adult on the first day of
    the 公示 (adulthood: by the ID number or birth date on file) and consented (同意公示), the masked
    student name, school, stage and amount. Never an ID number, phone, address, birth date or cause
    of hardship; never a minor's name, nor the name of a student not proven an adult."""
    from . import statistics as stats

    rows, left_out = [], dict.fromkeys(LEFT_OUT_REASONS, 0)
    for rec in dataset.applications:
        d = rec.data
        s = statuses.get(d["id"])
        if d.get("year") != year or s is None or not s.complete:
            continue
        reason, row = d[NOTICE_KEY] if NOTICE_KEY in d else notice_row(d, on)
        if reason:
            left_out[reason] += 1
            continue
        rows.append(dict(row, unit=units.get(row["unit"], {}).get("name", row["unit"])))
    rows.sort(key=lambda r: (r["unit"], r["school"], r["name"]))
    return rows, left_out


# A record kept without its personal fields (the build's per-record results, jinqiu.publish.incremental)
# carries its notice_row under this key, worked out while the whole record was at hand.
NOTICE_KEY = "_notice_row"


def notice_row(d: dict, on: str) -> tuple[str | None, dict | None]:
    """(why the 公示 list leaves this application out, None) or (None, the row it shows of it, its
    union by id): the row is only for a student proven an adult on the first day of the 公示 who
    consented (adulthood, LEFT_OUT_REASONS)."""
    from . import statistics as stats

    age = adulthood(d["student"], on)
    reason = "minor" if age == "minor" else "no_consent" if d.get("notice_consent") is not True \
        else "unproven" if age == "unproven" else None
    if reason:
        return reason, None
    stage = stats.STAGE_LABELS.get(stats.STAGE.get(d["student"]["education"], ""), "")
    return None, {"name": ids.mask_name(d["student"]["name"]), "school": d["student"]["school"], "stage": stage,
                  "amount": d["aid"]["amount"], "unit": d["unit"]}
