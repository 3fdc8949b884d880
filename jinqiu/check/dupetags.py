"""Duplicate tags: the sealed ID numbers compared without a key that could reverse them (issue 21, invariant 8).

A tag is the first 128 bits of HMAC-SHA256(K_Y, kind|value…), under a per-year tag key K_Y that only the
city build and the escrow hold (trust.keyring keeps it wrapped to them in the key repository; `shred`
removes it with the year). Chinese ID numbers are enumerable, so nobody else ever hashes one: a clerk's
tool computes no tag. The city build computes them (`build.py tags`) and writes `data/tags/<Y>.yaml`,
signed by its registered SSH key (sealing.yaml `build_signer`, trust.tagsig checks it).

Invariants:
- a tag counts only for the record id, year and sealed values (the record's commitment) it was made
  for: a record whose values changed since has no tags until the build runs again;
- the keyless tier uses only tags whose signature the registered build key made (trust.tagsig);
- the keyed tier re-derives every tag from the opened values and a tag that differs is an error (a tag
  file is then wrong, whoever signed it);
- tags of different years are unrelated (one key per year), so a clone links the same child only
  within one year, which `continues` already does in clear.

Kinds, mirroring the duplicate rules (crossrules): `student` (the student's ID number), `family`
(the worker's ID number with the student's name), `graduate` (a graduate's ID number) and `person` (each
ID number of the record on its own, compared with the reviewers' own and family ID numbers).
"""

from __future__ import annotations

import hashlib
import hmac
import json

from . import identity
from .values import filled, value_at

KINDS = ("student", "family", "person", "graduate")


def clear_keys(data: dict) -> list[tuple]:
    """The keys that identify an application's aided child, in canonical form: the student's ID
    number, and the worker's ID number with the student's name."""
    keys = []
    sid = value_at(data, "student", "id_number")
    if filled(sid) and identity.canonical(sid):
        keys.append(("student", identity.canonical(sid)))
    wid, name = value_at(data, "worker", "id_number"), value_at(data, "student", "name")
    if filled(wid) and filled(name) and identity.canonical(wid) and identity.canonical(name):
        keys.append(("family", identity.canonical(wid), identity.canonical(name)))
    return keys


def person_numbers(data: dict) -> list[str]:
    """Every ID number of a record, canonical (the worker's and student's, or the graduate's)."""
    found = [value_at(data, "worker", "id_number"), value_at(data, "student", "id_number"),
             value_at(data, "graduate", "id_number")]
    return [identity.canonical(n) for n in found if filled(n) and identity.canonical(n)]


def tag(key: bytes, *parts: str) -> str:
    return hmac.new(key, "|".join(parts).encode("utf-8"), hashlib.sha256).hexdigest()[:32]


def record_tags(key: bytes, data: dict) -> dict:
    """{kind: [tag…]} of a record's clear form under a year's tag key (no empty kind)."""
    out: dict[str, list] = {}
    if isinstance(data.get("graduate"), dict):
        gid = value_at(data, "graduate", "id_number")
        if filled(gid) and identity.canonical(gid):
            out["graduate"] = [tag(key, "graduate", identity.canonical(gid))]
    else:
        for kind, *parts in clear_keys(data):
            out.setdefault(kind, []).append(tag(key, kind, *parts))
    people = sorted({tag(key, "person", n) for n in person_numbers(data)})
    if people:
        out["person"] = people
    return out


IDS = "$ids"  # on a reviewer opened by the keyed tier: the digest of the numbers as stored (reviewer_digest)


def reviewer_numbers(reviewer: dict) -> list[str]:
    """A reviewer's own and family ID numbers in clear, canonical (sealed ones, ENC[age,…], left out)."""
    numbers = [reviewer.get("id_number"), *(reviewer.get("family_id_numbers") or [])]
    return sorted({identity.canonical(str(n)) for n in numbers
                   if n and not str(n).startswith("ENC[") and identity.canonical(str(n))})


def reviewer_digest(reviewer: dict) -> str:
    """Which own and family ID numbers a reviewer's tags stand for: the digest of the numbers as
    reviewers.yaml stores them (in clear, or sealed to the build: then of the ciphertexts)."""
    if reviewer.get(IDS):
        return reviewer[IDS]
    stored = [reviewer.get("id_number"), *(reviewer.get("family_id_numbers") or [])]
    body = json.dumps(sorted(str(n) for n in stored if n), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return "sha256:" + hashlib.sha256(body).hexdigest()


def reviewer_tags(key: bytes, reviewer: dict) -> dict:
    return {"ids": reviewer_digest(reviewer), "person": sorted({tag(key, "person", n) for n in reviewer_numbers(reviewer)})}


def signed_bytes(tags_file: dict) -> bytes:
    """What the build key signs: the file's content without its signature, canonical JSON."""
    body = {k: v for k, v in tags_file.items() if k != "signature"}
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str).encode("utf-8")


class Tags:
    """The verified tags of a data tree: {year: the tags file's content}; what the rules ask of them."""

    def __init__(self, years: dict | None = None):
        self.years = {int(y): t for y, t in (years or {}).items()}

    def of(self, data: dict, commit_key: str) -> dict | None:
        """The tags of a record's view, when they were made for its current values (else None)."""
        found = self.years.get(data.get("year")) if isinstance(data.get("year"), int) else None
        entry = (found or {}).get("records", {}).get(str(data.get("id", "")))
        if not entry or entry.get("commit") != data.get(commit_key):
            return None
        return entry

    def reviewer(self, year, rid: str, reviewer: dict) -> set:
        """A reviewer's person tags of that year, when made for their current ID numbers."""
        found = self.years.get(year) if isinstance(year, int) else None
        entry = (found or {}).get("reviewers", {}).get(rid)
        if not entry or entry.get("ids") != reviewer_digest(reviewer):
            return set()
        return set(entry.get("person") or [])
