"""No personal data on the public site: the projection every public template reads through, and
the scanner that reads every built file and fails the build if any personal data got through."""

from __future__ import annotations

import bz2
import gzip
import html
import json
import lzma
import re
import unicodedata
import urllib.parse
import zlib
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

from . import ids, layout

# ---------------------------------------------------------------- projection


@lru_cache(maxsize=None)
def _schema(kind: str) -> dict:
    # Our own copy: fastjsonschema.compile rewrites the $refs of the shared layout.schema() dict.
    return json.loads((layout.SCHEMA_DIR / layout.KINDS[kind][0]).read_text(encoding="utf-8"))


def project(kind: str, data: dict) -> dict:
    """Only the fields the schema marks `x-public: true` (with the objects that lead to them)."""
    root = _schema(kind)
    return _project(data, root, root)


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
        plan = _plan(rec.kind)
        if plan is None:
            root = _schema(rec.kind)
            _collect(rec.data, root, root, found, False)
        else:
            _gather(rec.data, plan, found)
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

ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e]")
_U_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
_X_ESCAPE = re.compile(r"\\x([0-9a-fA-F]{2})")


def normalize(text: str) -> str:
    """Undo JSON \\u escapes, HTML entities, URL encoding, full-width forms and zero-width characters."""
    if ("\\" not in text and "&" not in text and "%" not in text and unicodedata.is_normalized("NFKC", text)
            and not ZERO_WIDTH.search(text)):
        return text  # nothing to undo (most values): every step below would leave it as it is
    for _ in range(3):  # nested encodings (an entity inside URL encoding inside JSON ...)
        before = text
        text = _U_ESCAPE.sub(lambda m: _unsurrogate(m.group(1)), text)
        text = _X_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
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


def read_text(path: Path) -> str:
    """A file's text, decompressed when it is gzip, zlib, bzip2 or xz."""
    raw = path.read_bytes()
    for opener in (gzip.decompress, bz2.decompress, lzma.decompress, zlib.decompress):
        try:
            raw = opener(raw)
            break
        except Exception:  # noqa: BLE001 - not that compression; try the next
            continue
    text = raw.decode("utf-8", errors="replace")
    if "\\u" in text and path.suffix == ".json":
        try:
            text = json.dumps(json.loads(text), ensure_ascii=False)
        except ValueError:
            pass
    return text


# ---------------------------------------------------------------- the scanner


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    what: str  # 身份证号码, 电话号码, 数据中的个人信息

    def text(self) -> str:
        return f"{self.path}:{self.line}: error: 公开网站中发现{self.what}"


_ID_CANDIDATE = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9])")
_MOBILE = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")
_LANDLINE = re.compile(r"(?<![0-9])0[1-9][0-9]{1,2}-[2-9][0-9]{6,7}(?![0-9])")


class Needles:
    """The personal values to look for: digit values (ID numbers, phones) by exact digit run, the
    others (names, addresses) by set lookup of the text's substrings of their lengths at each place
    where their first character occurs, so the cost does not grow with the number of values."""

    def __init__(self, values):
        self.digits: set[str] = set()
        self.words: set[str] = set()
        lengths: dict[str, set[int]] = {}
        for v in values:
            if len(v) < 2:
                continue
            if v[0].isdigit():
                self.digits.add(v.upper())
                self.digits.add(v.replace("-", "").upper())
            else:
                self.words.add(v)
                lengths.setdefault(v[0], set()).add(len(v))
        # longest first: at one place the longest value that starts there is the one reported
        self.lengths = {c: sorted(ls, reverse=True) for c, ls in lengths.items()}
        chars = "".join(sorted(self.lengths))
        self.first_re = re.compile("[" + re.escape(chars) + "]") if chars else None

    def find(self, text: str):
        """(offset, value) of the first personal value in text, or None."""
        if self.digits:
            for m in _DIGIT_RUN.finditer(text):
                run = m.group(0).upper()
                if run in self.digits or run.replace("-", "") in self.digits:
                    return m.start(), run
        if self.first_re is not None:
            lengths, words = self.lengths, self.words
            for m in self.first_re.finditer(text):
                i = m.start()
                for n in lengths[text[i]]:
                    if text[i:i + n] in words:
                        return i, text[i:i + n]
        return None


_DIGIT_RUN = re.compile(r"(?<![0-9])[0-9][0-9-]*[0-9Xx]")


def scan_text(text: str, needles: Needles) -> list[tuple[int, str]]:
    """(offset, what) for each kind of personal data found in already normalized text."""
    found = []
    for m in _ID_CANDIDATE.finditer(text):
        number = m.group(0).upper()
        if ids.id_problem(number) is None:
            found.append((m.start(), "有效的身份证号码"))
            break
    for regex in (_MOBILE, _LANDLINE):
        m = regex.search(text)
        if m:
            found.append((m.start(), "电话号码"))
    hit = needles.find(text)
    if hit:
        found.append((hit[0], "数据中的个人信息（姓名、身份证号码、电话或住址）"))
    return found


def fixed_text(site: Path, dataset, sources=()) -> str:
    """The text a site holds whatever the data: our templates and pages, the theme's assets, and the
    published names of the unions and the campaign. A name that occurs in it (a child called 余天,
    inside 剩余天数) cannot be told apart from it, so the scan cannot look for that name."""
    parts = []
    for folder in [*sources, site / "assets"]:
        for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
            parts.append(normalize(read_text(path)))
    parts += [normalize(str(u.get("name", ""))) for u in dataset.units.values()]
    for campaign in dataset.campaigns.values():
        parts += [normalize(str(campaign.get(k, ""))) for k in ("title", "notice", "issuer", "receiver")]
    return "\n".join(parts)


def scannable(values, fixed: str) -> tuple[set[str], set[str]]:
    """(values to look for, names and addresses that are part of the site's fixed text)."""
    hidden = {v for v in values if not v[0].isdigit() and v in fixed}
    return set(values) - hidden, hidden


def scan(site: Path, values) -> list[Finding]:
    """Every file under site, read whole after undoing encodings: where personal data shows up."""
    needles = values if isinstance(values, Needles) else Needles(values)
    findings = []
    for path in sorted(p for p in site.rglob("*") if p.is_file()):
        text = normalize(read_text(path))
        for offset, what in scan_text(text, needles):
            findings.append(Finding(str(path), text.count("\n", 0, offset) + 1, what))
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
    from . import statistics as stats

    rows, left_out = [], 0
    for rec in dataset.applications:
        d = rec.data
        s = statuses.get(d["id"])
        if d.get("year") != year or s is None or not s.complete:
            continue
        if d.get("notice_consent") is not True or is_minor(d["student"], on):
            left_out += 1
            continue
        stage = stats.STAGE_LABELS.get(stats.STAGE.get(d["student"]["education"], ""), "")
        rows.append({
            "name": ids.mask_name(d["student"]["name"]),
            "school": d["student"]["school"],
            "stage": stage,
            "amount": d["aid"]["amount"],
            "unit": units.get(d["unit"], {}).get("name", d["unit"]),
        })
    rows.sort(key=lambda r: (r["unit"], r["school"], r["name"]))
    return rows, left_out
