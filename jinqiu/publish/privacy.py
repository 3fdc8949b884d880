"""No personal data on the public site: the projection every public template reads through, and
the scanner that reads every built file and fails the build if any personal data got through."""

from __future__ import annotations

import bz2
import gzip
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

# Characters that show nothing: zero-width ones, soft hyphens, and the bidirectional controls
ZERO_WIDTH = re.compile("[\u200b-\u200f\u2060-\u2064\ufeff\u00ad\u180e\u034f\u061c\u202a-\u202e\u2066-\u2069]")
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


# Characters people put between the parts of a number or a name (210202 19680408 0502,
# 151-4847-1100, 151.4847.1100, 任 芳琴, 任·芳琴), after normalize (full-width forms are half-width
# and zero-width characters gone by then).
SEPARATORS = " \t\r\n\u00a0\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f-\u2010\u2011\u2012\u2013\u2014\u2015\u2212.\u00b7\u2027\u30fb\u2022_/"
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


# A number written in groups: digit chunks joined by at most three separators.
_NUMBER = re.compile(r"[0-9][0-9Xx]*(?:[" + re.escape(SEPARATORS) + r"]{1,3}[0-9][0-9Xx]*)*")
_CHUNK = re.compile(r"[0-9][0-9Xx]*")
_LANDLINE = re.compile(r"(?<![0-9])0[1-9][0-9]{1,2}[-(（)） ]{1,2}[2-9][0-9]{2,3}[- ]?[0-9]{4}(?![0-9])")
# How people group an ID number or a mobile (a shape found without the data, so only usual groupings:
# the numbers of a chart or a script are chunks too, and any 11 of their digits could start with 13)
_ID_GROUPS = {(18,), (6, 8, 4), (6, 12), (6, 4, 4, 4), (17, 1), (6, 8, 3, 1)}
_MOBILE_GROUPS = {(11,), (3, 4, 4), (3, 8), (7, 4), (4, 4, 3)}
_MOBILE = re.compile(r"1[3-9][0-9]{9}")


def _windows(text: str, longest: int = 18):
    """(offset, digits, chunk lengths) for every run of consecutive digit chunks of a number written
    in groups, up to `longest` digits: each way a value could be spread over the groups."""
    for m in _NUMBER.finditer(text):
        chunks = [(c.start(), c.group(0)) for c in _CHUNK.finditer(m.group(0))]
        for i, (start, first) in enumerate(chunks):
            digits, lengths = "", ()
            for _, chunk in chunks[i:]:
                digits += chunk
                lengths += (len(chunk),)
                if len(digits) > longest:
                    break
                yield m.start() + start, digits.upper(), lengths


class Needles:
    """The personal values to look for. Numbers (ID numbers, phones) are compared with every run of
    digit groups of the text (so 151 4847 1100 is 15148471100); names and addresses are found
    without their separators (任 芳琴 is 任芳琴) by an Aho-Corasick automaton (pyahocorasick), in time
    linear in the length of the text, whatever the number of values."""

    def __init__(self, values):
        import ahocorasick

        self.digits: set[str] = set()
        self.words = ahocorasick.Automaton()
        self.longest = 0
        for v in values:
            if len(v) < 2:
                continue
            if v[0].isdigit():
                digits = squeeze(v).upper()
                self.digits.add(digits)
                self.longest = max(self.longest, len(digits))
            else:
                word = squeeze(v)
                if len(word) >= 2:
                    self.words.add_word(word, word)
        self.has_words = len(self.words) > 0
        if self.has_words:
            self.words.make_automaton()

    def dump(self) -> tuple[bytes, dict]:
        """(the automaton as pyahocorasick saves it, the rest as JSON): for Needles.restore."""
        import os
        import tempfile

        data = b""
        if self.has_words:
            fd, path = tempfile.mkstemp(prefix="jinqiu-needles-")
            os.close(fd)
            try:
                self.words.save(path, _word_bytes)
                with open(path, "rb") as f:
                    data = f.read()
            finally:
                os.unlink(path)
        return data, {"digits": sorted(self.digits), "longest": self.longest}

    @classmethod
    def restore(cls, data: bytes, rest: dict) -> "Needles":
        """Needles as dump() gave them (data only ever from this user's HMAC-bound store: the automaton
        file is read by pyahocorasick, its words decoded as UTF-8, never unpickled)."""
        import os
        import tempfile

        import ahocorasick

        self = cls.__new__(cls)
        self.digits, self.longest = set(rest["digits"]), int(rest["longest"])
        self.has_words = bool(data)
        self.words = ahocorasick.Automaton()
        if data:
            fd, path = tempfile.mkstemp(prefix="jinqiu-needles-")
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                self.words = ahocorasick.load(path, _word_text)
            finally:
                os.unlink(path)
        return self

    def words_in(self, text: str) -> set[str]:
        """Every name or address that occurs in text (separators ignored)."""
        if not self.has_words:
            return set()
        return {w for _, w in self.words.iter(squeeze(text))}

    def find(self, text: str):
        """(offset, value) of the first personal value in text, or None; at one place the longest."""
        if self.digits:
            for offset, digits, _ in _windows(text, self.longest):
                if digits in self.digits:
                    return offset, digits
        return self.find_word(text)

    def find_word(self, text: str):
        """(offset, name or address) of the first name or address in text (the longest at one place)."""
        if self.has_words:
            squeezed = squeeze(text)
            best = None
            for end, word in self.words.iter(squeezed):
                start = end - len(word) + 1
                if best is None or (start, -len(word)) < (best[0], -len(best[1])):
                    best = (start, word)
                elif start > best[0] + 64:
                    break
            if best is not None:
                return _unsqueezed_offset(text, best[0]), best[1]
        return None


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
    its numbers (shapes and the data's numbers at once), one over its words."""
    found = []
    id_hit = phone_hit = value_hit = None
    values = needles.digits
    for offset, digits, lengths in _windows(text, max(18, needles.longest)):
        n = len(digits)
        if id_hit is None and n == 18 and lengths in _ID_GROUPS and ids.id_problem(digits) is None:
            id_hit = offset
        elif phone_hit is None and n == 11 and lengths in _MOBILE_GROUPS and _MOBILE.fullmatch(digits):
            phone_hit = offset
        if value_hit is None and digits in values:
            value_hit = offset
        if id_hit is not None and phone_hit is not None and value_hit is not None:
            break
    if id_hit is not None:
        found.append((id_hit, "有效的身份证号码"))
    m = _LANDLINE.search(text)
    if phone_hit is not None or m:
        found.append((min(x for x in (phone_hit, m and m.start()) if x is not None), "电话号码"))
    if value_hit is None and needles.has_words:
        hit = needles.find_word(text)
        value_hit = hit and hit[0]
    if value_hit is not None:
        found.append((value_hit, "数据中的个人信息（姓名、身份证号码、电话或住址）"))
    return found


def theme_assets() -> Path:
    """The theme's own scripts and style sheets (what mkdocs copies into site/assets)."""
    import material

    return Path(material.__file__).parent / "templates" / "assets"


def fixed_text(sources) -> str:
    """The site's own fixed wording: our page templates and static pages and the theme's assets,
    read from where they are kept (never from the built site, and nothing derived from the data:
    a union's name or the campaign's notice is data like any other). A name that occurs in it (a
    child called 余天, inside 剩余天数) cannot be told apart from it, so the scan cannot look for it."""
    return "\n".join(normalize(read_text(path)) for path in _fixed_files(sources))


def _fixed_files(sources) -> list[Path]:
    return [path for folder in [*sources, theme_assets()] for path in sorted(p for p in Path(folder).rglob("*") if p.is_file())]


def scannable(values, fixed: str) -> tuple[set[str], set[str]]:
    """(values to look for, names and addresses that are part of the site's fixed text)."""
    words = [v for v in values if not v[0].isdigit()]
    inside = Needles(words).words_in(fixed)
    hidden = {v for v in words if squeeze(v) in inside}
    return set(values) - hidden, hidden


def values_digest(values) -> str:
    import hashlib

    return hashlib.sha256("\0".join(sorted(values)).encode("utf-8", "surrogatepass")).hexdigest()


def sources_digest(sources) -> str:
    """A digest of the files of the site's fixed text (fixed_text reads them)."""
    import hashlib

    h = hashlib.sha256()
    for path in _fixed_files(sources):
        h.update(str(path).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def scannable_memo(values, sources, memo: dict) -> tuple[set[str], set[str]]:
    """scannable(values, fixed_text(sources)), remembering between builds (memo, a JSON dict updated
    here) the fixed text while its sources are the same, and the answer while the values are."""
    import hashlib

    h = sources_digest(sources)
    if memo.get("sources") != h or not isinstance(memo.get("text"), str):
        memo.clear()
        memo.update(sources=h, text=fixed_text(sources))
    digest = values_digest(values)
    if memo.get("values") == digest and isinstance(memo.get("hidden"), list):
        hidden = set(memo["hidden"]) & set(values)
        return set(values) - hidden, hidden
    found = scannable(values, memo["text"])
    memo.update(values=digest, hidden=sorted(found[1]))
    return found


def scan(site: Path, values, memo: dict | None = None, key: str | None = None) -> list[Finding]:
    """Every file under site, read whole after undoing encodings and unpacking archives: where
    personal data shows up. memo ({"needles": digest of the values, "files": {path: digest}}, from
    the last scan of site, updated here): a file whose bytes a scan for the same values found clean
    is not read again. key: what names the values (their digest by default; needed for Needles)."""
    import hashlib

    needles = values if isinstance(values, Needles) else Needles(values)
    clean = {}
    if key is None and memo is not None and not isinstance(values, Needles):
        key = values_digest(values)
    if memo is not None and key is not None:
        digest = key
        clean = memo.get("files") if memo.get("needles") == digest and isinstance(memo.get("files"), dict) else {}
        memo.clear()
        memo.update(needles=digest, files={})
    findings = []
    for path in sorted(p for p in site.rglob("*") if p.is_file()):
        raw = path.read_bytes()
        key = hashlib.blake2b(raw, digest_size=16).hexdigest()
        rel = path.relative_to(site).as_posix()
        if clean.get(rel) == key:
            memo["files"][rel] = key
            continue
        text = normalize(read_text(path, raw))
        found = scan_text(text, needles)
        for offset, what in found:
            findings.append(Finding(str(path), text.count("\n", 0, offset) + 1, what))
        if memo is not None and not found and "files" in memo:
            memo["files"][rel] = key
    return findings


# ---------------------------------------------------------------- the public notice (公示)


# 学历 of children of school age: never named on the public site, whatever the form says.
MINOR_STAGES = {"小学", "初中", "高中", "中职"}
ADULT_AGE = 18


def is_minor(student: dict, on: str) -> bool:
    """A student is treated as a minor when at school below college level, or when the student's
    ID number gives an age under 18 on the given day (the first day of the 公示). A college student
    without an ID number is taken as an adult: the form's 同意公示 says the student is 18 or over."""
    if student.get("education") not in ("高职", "大专", "本科", "研究生"):
        return True  # MINOR_STAGES, or a 学历 we do not know: never named
    number = student.get("id_number")
    if isinstance(number, str) and ids.id_problem(number) is None:
        born = ids.id_birth_date(number)
        day = date.fromisoformat(on)
        age = day.year - born.year - ((day.month, day.day) < (born.month, born.day))
        return age < ADULT_AGE
    return False


def notice_rows(dataset, year: int, statuses: dict, units: dict, on: str) -> tuple[list[dict], int]:
    """The 公示 list and how many approved applications it leaves out: for each application
    approved all the way whose student consented (同意公示) and is not a minor (is_minor, on the
    first day of the 公示), the masked student name, school, stage and amount. Never an ID number,
    phone, address, birth date or cause of hardship; never a minor's name."""
    rows, left_out = [], 0
    for rec in dataset.applications:
        d = rec.data
        s = statuses.get(d["id"])
        if d.get("year") != year or s is None or not s.complete:
            continue
        row = d[NOTICE_KEY] if NOTICE_KEY in d else notice_row(d, on)
        if row is None:
            left_out += 1
            continue
        rows.append(dict(row, unit=units.get(row["unit"], {}).get("name", row["unit"])))
    rows.sort(key=lambda r: (r["unit"], r["school"], r["name"]))
    return rows, left_out


# A record kept without its personal fields (the build's per-record results, jinqiu.publish.incremental)
# carries its notice_row under this key, worked out while the whole record was at hand.
NOTICE_KEY = "_notice_row"


def notice_row(d: dict, on: str) -> dict | None:
    """What the 公示 list shows of one application approved all the way (its union by id), or None
    when it is left out: no consent, or a minor (is_minor, on the first day of the 公示)."""
    from . import statistics as stats

    if d.get("notice_consent") is not True or is_minor(d["student"], on):
        return None
    stage = stats.STAGE_LABELS.get(stats.STAGE.get(d["student"]["education"], ""), "")
    return {"name": ids.mask_name(d["student"]["name"]), "school": d["student"]["school"], "stage": stage,
            "amount": d["aid"]["amount"], "unit": d["unit"]}
