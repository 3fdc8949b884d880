"""check-sealed: a clone without a key reveals no personal value (keyless; run before a change merges).

Invariant: in a repository whose city seals personal data (data/sealing.yaml), every application and
graduate record of a sealed year is stored sealed, sealed to the public group key registered for its
union and year, with no personal field in clear (the stored-form schema), and no clear text anywhere
in any record (an opinion, a school, a programme, a note) holds an 18-digit ID number or a mobile
number. Needs no key: it reads only what every clone holds.
"""

from __future__ import annotations

import re

from ..problems import Problem
from ..records import layout, sealed
from . import ids

# an ID number (17 digits and a digit or X) or a mobile number (11 digits from 13-19), not inside a
# longer run of letters and digits (hex digests, base64, signatures)
PATTERN = re.compile(r"(?<![0-9A-Za-z+/])([0-9]{17}[0-9Xx]|1[3-9][0-9]{9})(?![0-9A-Za-z+/])")
SKIP_KEYS = {"signature", "paid_signature", "digest", "key", "salt", "commit"}


def _strings(value, pointer=""):
    if isinstance(value, dict):
        for k, v in value.items():
            if k in SKIP_KEYS:
                continue
            yield from _strings(v, f"{pointer}/{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _strings(v, f"{pointer}/{i}")
    elif isinstance(value, str) and not sealed.is_enc(value):
        yield pointer, value


def _mask(text: str) -> str:
    return ids.mask_id(text) if len(text) == 18 else ids.mask_phone(text)


def stored_sealed(record, cfg):
    """A record of a sealed year is stored sealed (not in clear)."""
    year = record.data.get("year")
    if record.kind in sealed.SEALABLE_KINDS and cfg.year_sealed(year) and not sealed.is_sealed(record.data):
        yield "", "sealed-missing", (f"{year} 年度的记录须加密保存个人信息，但此文件是明文；"
                                     "请运行 python3 build.py seal 此文件（只用公开加密钥，不需要私钥）后再提交")


def sealed_to_registered_key(record, cfg):
    """A sealed record is sealed to the group key registered for its union and year."""
    if not sealed.is_sealed(record.data):
        return
    year, unit = record.data.get("year"), str(record.data.get("unit", ""))
    want = cfg.recipient(year, unit) if cfg else None
    got = record.data["sealed"].get("to")
    if want is None:
        yield "/sealed/to", "sealed-no-group", f"加密设置 sealing.yaml 中没有 {year} 年度工会 {unit} 的公开加密钥"
    elif got not in cfg.recipients(year, unit):
        yield "/sealed/to", "sealed-wrong-key", (f"数据密钥加密给了 {got}，不是加密设置中 {year} 年度工会 {unit} 的公开加密钥 {want}；"
                                                 "审批链上的人读不到它")


def schema_in_stored_form(record, cfg):
    """No personal field of a sealed record is in clear (the stored-form schema)."""
    if not sealed.is_sealed(record.data):
        return
    from . import schemacheck

    for pointer, code, message in schemacheck.check(record.kind, record.data):
        if code == "sealed-clear":
            yield pointer, code, message


def no_id_or_mobile_in_clear(record, cfg):
    """No clear text in a sealed-era record holds an ID number or a mobile number."""
    for pointer, text in _strings(record.data):
        m = PATTERN.search(text)
        if m:
            yield pointer, "sealed-pattern-in-clear", (f"“{layout.label(record.kind, pointer)}”是明文，其中有像身份证号码或手机号的数字 "
                                                       f"{_mask(m.group(1))}：个人信息只能写在加密的栏目里，请删去")


def reviewer_ids_sealed(record, cfg):
    """In a sealed city the reviewers' own and family ID numbers are sealed too (to the build and the
    escrow, records.sealed.seal_reviewer), and no other clear text of the registry holds such a number."""
    numbers = set()
    for i, r in enumerate(record.data.get("reviewers") or []):
        if not isinstance(r, dict):
            continue
        found = [(f"/reviewers/{i}/id_number", "身份证号码", r.get("id_number"))]
        found += [(f"/reviewers/{i}/family_id_numbers/{j}", "家属身份证号码", n) for j, n in enumerate(r.get("family_id_numbers") or [])]
        for pointer, label, value in found:
            numbers.add(pointer)
            if value and not sealed.is_small_enc(value):
                yield pointer, "reviewer-id-clear", (f"审核人 {r.get('id')} 的{label}是明文：运行 python3 build.py keys seal-reviewers "
                                                     "加密（只用公开的构建公钥和托管公钥，不需要私钥），再由管理员签名提交")
    for pointer, code, message in no_id_or_mobile_in_clear(record, cfg):
        if pointer not in numbers:
            yield pointer, code, message


RULES = [stored_sealed, sealed_to_registered_key, schema_in_stored_form, no_id_or_mobile_in_clear]
# what a version in history is checked for: whatever would reveal a personal value to a clone (to whom
# an old version was sealed matters no more)
LEAK_RULES = [stored_sealed, schema_in_stored_form, no_id_or_mobile_in_clear]


def check(records, cfg, line_of, rules=RULES) -> list[Problem]:
    """Every problem of the keyless scan over these records (application and graduate kinds, and the
    reviewers' registry)."""
    out = []
    for record in records:
        if record.data is not None and record.kind == "reviewers":
            for pointer, code, message in reviewer_ids_sealed(record, cfg):
                out.append(Problem(record.path, line_of(record, pointer), pointer, code, message))
            continue
        if record.data is None or record.kind not in sealed.SEALABLE_KINDS:
            continue
        if not (cfg.year_sealed(record.data.get("year")) or sealed.is_sealed(record.data)):
            continue
        for rule in rules:
            for pointer, code, message in rule(record, cfg):
                out.append(Problem(record.path, line_of(record, pointer), pointer, code, message))
    return sorted(set(out))
