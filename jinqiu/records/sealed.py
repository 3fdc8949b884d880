"""Personal values sealed at rest: the jq1 envelope.

A sealed record keeps every field the keyless tools need in clear and replaces each personal leaf
(the fields its schema marks `x-personal`, and the free-text `note`) by `ENC[jq1,<base64>]`: AES-256-GCM
under the record's own data key, nonce ‖ ciphertext ‖ tag, with the associated data
`jq1|<record id>|<JSON pointer>`, so a value swapped inside a file or moved from another record fails
to open. The record's `sealed:` block says to whom the data key is wrapped (`to`: the public age
recipient of its union-year group), carries the wrapped key (`key`: an age file, base64), a sealed
32-byte salt and `commit = sha256(salt ‖ canonical(values))`, the commitment the key-free approval
digest covers.

Invariants:
- sealing needs only the public recipient (a clerk can file what they cannot read back);
- an unchanged value keeps its ciphertext, and an unchanged record keeps its salt and wrapped key
  (re-importing the same sheet changes nothing);
- opening checks the commitment: a forged `commit` is an error naming the file.

The data key wrapping uses pyrage (age X25519); the values use `cryptography`'s AESGCM.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = "jq1"
SEALED_KEY = "sealed"
SEALED_PLACEHOLDER = "$sealed"
ENC_PATTERN = r"^ENC\[jq1,[A-Za-z0-9+/]+={0,2}\]$"
_ENC = re.compile(ENC_PATTERN)
SEALABLE_KINDS = ("application", "graduate")
FREE_TEXT = ("/note",)  # clear-schema fields that are not x-personal but can carry personal data


class SealError(Exception):
    """A sealed value or record that cannot be opened or checked; the message is Chinese."""


def is_enc(value) -> bool:
    """Whether a stored value is a jq1 envelope."""
    return isinstance(value, str) and _ENC.match(value) is not None


def is_sealed(data) -> bool:
    """Whether a record (stored form) carries a `sealed:` block."""
    return isinstance(data, dict) and isinstance(data.get(SEALED_KEY), dict)


def _resolve(node: dict, root: dict) -> dict:
    ref = node.get("$ref")
    if ref and ref.startswith("#/$defs/"):
        return root["$defs"][ref[len("#/$defs/"):]]
    return node


def personal_pointers(schema: dict) -> tuple[str, ...]:
    """The JSON pointers of every sealed leaf of a record kind: `x-personal` properties and free text."""
    out: list[str] = []

    def walk(node: dict, prefix: str) -> None:
        node = _resolve(node, schema)
        for name, sub in (node.get("properties") or {}).items():
            ptr = f"{prefix}/{name}"
            resolved = _resolve(sub, schema)
            if resolved.get("x-personal") or ptr in FREE_TEXT:
                out.append(ptr)
            elif resolved.get("type") == "object" or "properties" in resolved:
                walk(resolved, ptr)

    walk(schema, "")
    return tuple(out)


SEALED_BLOCK_SCHEMA = {
    "title": "加密信息",
    "description": "个人信息加密后的密钥与承诺值，由 jinqiu 写入，请勿手改。",
    "type": "object",
    "required": ["to", "key", "salt", "commit"],
    "additionalProperties": False,
    "properties": {
        "to": {"title": "加密对象", "description": "本工会本年度的公开加密钥（age1…）。", "type": "string",
               "pattern": "^age1[0-9a-z]{58}$"},
        "key": {"title": "数据密钥", "description": "加密给本工会本年度的数据密钥（age 格式，base64）。", "type": "string",
                "pattern": "^[A-Za-z0-9+/]+={0,2}$"},
        "salt": {"title": "承诺盐值", "description": "加密的随机盐值。", "type": "string", "pattern": ENC_PATTERN},
        "commit": {"title": "承诺值", "description": "sha256（盐值 ‖ 全部个人信息）。", "type": "string",
                   "pattern": "^sha256:[0-9a-f]{64}$"},
    },
}


def stored_schema(schema: dict) -> dict:
    """The schema of the stored (sealed) form: every sealed leaf an envelope, plus the `sealed` block."""
    out = copy.deepcopy(schema)
    for ptr in personal_pointers(schema):
        parts = ptr.strip("/").split("/")
        node = out
        for part in parts[:-1]:
            node = _resolve(node, out)["properties"][part]
            node = _resolve(node, out)
        node = _resolve(node, out)
        old = node["properties"][parts[-1]]
        node["properties"][parts[-1]] = {
            "title": old.get("title", parts[-1]),
            "description": f"加密保存：{old.get('description', '')}".rstrip("："),
            "type": "string", "pattern": ENC_PATTERN, "x-personal": True, "x-sealed": True,
        }
    props = out.setdefault("properties", {})
    # the block goes before the approvals, which stay the last block of the file (approvals are appended)
    ordered = {}
    for k, v in props.items():
        if k == "approvals":
            ordered[SEALED_KEY] = SEALED_BLOCK_SCHEMA
        ordered[k] = v
    ordered.setdefault(SEALED_KEY, SEALED_BLOCK_SCHEMA)
    out["properties"] = ordered
    return out


HIDDEN = "$sealed"  # the mark on a keyless view of a sealed record
OPENED = "$opened"  # the mark on a sealed record opened by the keyed tier (jinqiu.check.validate)
COMMIT = "$commit"  # on a keyless view: the sealed values' commitment (check.dupetags matches tags to it)


def hidden(stored: dict) -> dict:
    """A sealed record without its sealed values and `sealed` block, marked HIDDEN: what the keyless
    rules read (a rule that needs a sealed value finds it absent and leaves it to the keyed tier)."""
    def strip(v):
        if isinstance(v, dict):
            return {k: strip(x) for k, x in v.items() if not is_enc(x) and k != SEALED_KEY}
        if isinstance(v, list):
            return [strip(x) for x in v]
        return v

    out = strip(stored)
    out[HIDDEN] = True
    commit = (stored.get(SEALED_KEY) or {}).get("commit") if isinstance(stored.get(SEALED_KEY), dict) else None
    if commit:
        out[COMMIT] = commit  # which values the keyless view stands for: a duplicate tag counts only for these
    return out


# ---- values --------------------------------------------------------------------------------------

def _value_bytes(value) -> bytes:
    """A clear value as bytes that give it back exactly (a Decimal keeps its written text)."""
    if isinstance(value, Decimal):
        return json.dumps({"$decimal": str(value)}, ensure_ascii=False).encode("utf-8")
    return json.dumps(value, ensure_ascii=False, sort_keys=True).encode("utf-8")


def _value_of(raw: bytes):
    value = json.loads(raw.decode("utf-8"))
    if isinstance(value, dict) and set(value) == {"$decimal"}:
        return Decimal(value["$decimal"])
    return value


def aad(record_id: str, pointer: str) -> bytes:
    """The associated data that binds a ciphertext to its record and field."""
    return f"{VERSION}|{record_id}|{pointer}".encode("utf-8")


def seal_value(data_key: bytes, record_id: str, pointer: str, value) -> str:
    """`ENC[jq1,...]` of one clear value under the record's data key."""
    nonce = os.urandom(12)
    ct = AESGCM(data_key).encrypt(nonce, _value_bytes(value), aad(record_id, pointer))
    return f"ENC[{VERSION},{base64.b64encode(nonce + ct).decode('ascii')}]"


def open_value(data_key, record_id: str, pointer: str, text: str):
    """The clear value of one envelope (data_key: the key, or an AESGCM made of it); SealError when it
    is not this record's and field's."""
    if not is_enc(text):
        raise SealError(f"“{pointer}”不是 ENC[jq1,…] 加密值")
    blob = base64.b64decode(text[8:-1])
    try:
        aead = data_key if isinstance(data_key, AESGCM) else AESGCM(data_key)
        return _value_of(aead.decrypt(blob[:12], blob[12:], aad(record_id, pointer)))
    except (InvalidTag, ValueError) as exc:
        raise SealError(f"“{pointer}”的加密值无法解开：它不属于本记录的这一栏（被调换或从别的记录移来），或已被改动") from exc


def _get(data: dict, pointer: str):
    node = data
    for part in pointer.strip("/").split("/"):
        if not isinstance(node, dict) or part not in node:
            return _MISSING
        node = node[part]
    return node


def _set(data: dict, pointer: str, value) -> None:
    parts = pointer.strip("/").split("/")
    node = data
    for part in parts[:-1]:
        node = node[part]
    node[parts[-1]] = value


_MISSING = object()


def _json_value(value):
    """A clear value as the JSON the commitment covers (a Decimal as its written text, marked)."""
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, list):
        return [_json_value(v) for v in value]
    return value


def commitment(salt: bytes, values: dict) -> str:
    """`sha256:` of the salt followed by the canonical clear values (pointer -> value)."""
    body = json.dumps({p: _json_value(v) for p, v in values.items()}, sort_keys=True,
                      ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return "sha256:" + hashlib.sha256(salt + body).hexdigest()


# ---- records -------------------------------------------------------------------------------------

def wrap_key(data_key: bytes, recipient: str) -> str:
    """The data key as an age file (base64) for a public recipient: needs no private key."""
    import pyrage

    try:
        r = pyrage.x25519.Recipient.from_str(recipient)
    except Exception as exc:  # pyrage raises its own RecipientError
        raise SealError(f"加密对象 {recipient!r} 不是 age 公钥（age1…）") from exc
    return base64.b64encode(pyrage.encrypt(data_key, [r])).decode("ascii")


def unwrap_key(wrapped: str, identities) -> bytes:
    """The data key from its age file with any of the identities; SealError when none opens it."""
    import pyrage

    try:
        return pyrage.decrypt(base64.b64decode(wrapped), list(identities))
    except Exception as exc:
        raise SealError("没有能解开本记录数据密钥的密钥（不在本工会的审批链上，或该年度已销毁）") from exc


# ---- the reviewers' own ID numbers ----------------------------------------------------------------
# In a sealed city, data/reviewers.yaml keeps each reviewer's `id_number` and `family_id_numbers` as
# `ENC[age,<base64>]`: an age file to the city build and the escrow only (no member: the numbers serve
# the build's approval-self check and its duplicate tags, check.dupetags). Nothing binds such a value to
# its reviewer but the registry itself, which is trust data every change of which an administrator signs.
REVIEWER_SEALED = ("id_number", "family_id_numbers")
SMALL_PATTERN = r"^ENC\[age,[A-Za-z0-9+/]+={0,2}\]$"
_SMALL = re.compile(SMALL_PATTERN)


def is_small_enc(value) -> bool:
    """Whether a stored value is a reviewer's sealed number (`ENC[age,…]`)."""
    return isinstance(value, str) and _SMALL.match(value) is not None


def seal_small(value: str, recipients) -> str:
    import pyrage

    rs = [pyrage.x25519.Recipient.from_str(r) for r in dict.fromkeys(recipients)]
    return "ENC[age," + base64.b64encode(pyrage.encrypt(str(value).encode("utf-8"), rs)).decode("ascii") + "]"


def open_small(text: str, identities) -> str:
    import pyrage

    try:
        return pyrage.decrypt(base64.b64decode(text[len("ENC[age,"):-1]), list(identities)).decode("utf-8")
    except Exception as exc:
        raise SealError("没有能解开审核人身份证号码的密钥（只有市总工会构建密钥和托管密钥能打开）") from exc


def seal_reviewer(reviewer: dict, recipients) -> dict:
    """A reviewer's entry with every clear own or family ID number sealed (sealed ones kept as they are)."""
    out = dict(reviewer)
    if out.get("id_number") and not is_small_enc(out["id_number"]):
        out["id_number"] = seal_small(out["id_number"], recipients)
    if isinstance(out.get("family_id_numbers"), list):
        out["family_id_numbers"] = [n if is_small_enc(n) else seal_small(n, recipients) for n in out["family_id_numbers"]]
    return out


def open_reviewer(reviewer: dict, identities) -> dict:
    """A reviewer's entry with its sealed numbers opened (SealError when they cannot be)."""
    out = dict(reviewer)
    if is_small_enc(out.get("id_number")):
        out["id_number"] = open_small(out["id_number"], identities)
    if isinstance(out.get("family_id_numbers"), list):
        out["family_id_numbers"] = [open_small(n, identities) if is_small_enc(n) else n for n in out["family_id_numbers"]]
    return out


def values_of(clear: dict, pointers) -> dict:
    """{pointer: value} of every sealed leaf present in a clear record."""
    out = {}
    for ptr in pointers:
        v = _get(clear, ptr)
        if v is not _MISSING:
            out[ptr] = v
    return out


def seal(clear: dict, pointers, recipient: str, previous: dict | None = None, previous_key: bytes | None = None) -> dict:
    """The stored form of a clear record, sealed to `recipient`. With `previous` (the stored form the
    file holds now) and `previous_key` (its data key, from `open_with_key`), every unchanged value keeps
    its ciphertext, and when nothing changed the salt and wrapped key are kept too: sealing twice
    changes nothing."""
    record_id = str(clear.get("id", ""))
    values = values_of(clear, pointers)
    out = copy.deepcopy(clear)
    old_values: dict = {}
    reuse = (previous is not None and previous_key is not None and is_sealed(previous)
             and previous[SEALED_KEY].get("to") == recipient and str(previous.get("id")) == record_id)
    if reuse:
        data_key = previous_key
        for ptr in pointers:
            v = _get(previous, ptr)
            if v is not _MISSING:
                old_values[ptr] = open_value(data_key, record_id, ptr, v)
    else:
        data_key = AESGCM.generate_key(bit_length=256)
    for ptr, v in values.items():
        if ptr in old_values and _value_bytes(old_values[ptr]) == _value_bytes(v):
            _set(out, ptr, _get(previous, ptr))
        else:
            _set(out, ptr, seal_value(data_key, record_id, ptr, v))
    if reuse and old_values.keys() == values.keys() and all(
            _value_bytes(old_values[p]) == _value_bytes(values[p]) for p in values):
        out[SEALED_KEY] = dict(previous[SEALED_KEY])
        return out
    salt = os.urandom(32)
    out[SEALED_KEY] = {
        "to": recipient,
        "key": previous[SEALED_KEY]["key"] if reuse else wrap_key(data_key, recipient),
        "salt": seal_value(data_key, record_id, "/sealed/salt", base64.b64encode(salt).decode("ascii")),
        "commit": commitment(salt, values),
    }
    return out


def open_record(stored: dict, pointers, identities) -> dict:
    """The clear form of a sealed record (without its `sealed` block), after checking the commitment;
    SealError names what is wrong."""
    clear, _ = open_with_key(stored, pointers, identities)
    return clear


def open_with_key(stored: dict, pointers, identities) -> tuple[dict, bytes]:
    """(clear record, data key) of a sealed record; the commitment is checked."""
    if not is_sealed(stored):
        raise SealError("记录没有 sealed 加密信息")
    block = stored[SEALED_KEY]
    data_key = unwrap_key(str(block.get("key", "")), identities)
    aead = AESGCM(data_key)
    record_id = str(stored.get("id", ""))
    # a copy of the record: the mappings that hold sealed values are copied, the rest is shared read-only
    holders = {ptr.strip("/").split("/")[0] for ptr in pointers if ptr.count("/") > 1}
    clear = {k: (dict(v) if k in holders and isinstance(v, dict) else v) for k, v in stored.items() if k != SEALED_KEY}
    for ptr in pointers:
        v = _get(stored, ptr)
        if v is _MISSING:
            continue
        _set(clear, ptr, open_value(aead, record_id, ptr, v))
    salt = base64.b64decode(open_value(aead, record_id, "/sealed/salt", block.get("salt", "")))
    if commitment(salt, values_of(clear, pointers)) != block.get("commit"):
        raise SealError("承诺值（sealed.commit）与解密出的个人信息不符：承诺值被伪造或改动过，审批签的不是这些内容")
    return clear, data_key


def reseal_for(stored: dict, pointers, identities, recipient: str) -> dict:
    """The same record with its data key wrapped to another recipient (re-keying): values, salt and
    commitment unchanged, so the approval digest is unchanged."""
    _, data_key = open_with_key(stored, pointers, identities)
    out = copy.deepcopy(stored)
    out[SEALED_KEY] = dict(out[SEALED_KEY], to=recipient, key=wrap_key(data_key, recipient))
    return out


def rotate_data_key(stored: dict, pointers, identities) -> dict:
    """The same record under a fresh data key: every ciphertext new, the salt and commitment kept."""
    clear, data_key = open_with_key(stored, pointers, identities)
    block = stored[SEALED_KEY]
    record_id = str(stored.get("id", ""))
    salt_text = open_value(data_key, record_id, "/sealed/salt", block["salt"])
    new_key = AESGCM.generate_key(bit_length=256)
    out = copy.deepcopy(stored)
    for ptr, v in values_of(clear, pointers).items():
        _set(out, ptr, seal_value(new_key, record_id, ptr, v))
    out[SEALED_KEY] = {"to": block["to"], "key": wrap_key(new_key, block["to"]),
                       "salt": seal_value(new_key, record_id, "/sealed/salt", salt_text), "commit": block["commit"]}
    return out


# ---- the city's choice: data/sealing.yaml -----------------------------------------------------------

@dataclass
class Sealing:
    """data/sealing.yaml as read: from which year records are sealed, and to whom."""

    since: int
    build: str
    escrow: str
    members: list
    groups: dict  # year -> unit -> recipient, or a list of them (the current one last)
    shredded: list = field(default_factory=list)
    retain_years: int | None = None
    build_signer: str | None = None  # the city build's SSH public key: only tags it signed count (check.dupetags)

    def retain_until(self, year) -> str | None:
        """The last day a year's personal values are kept (None: no period set)."""
        return None if self.retain_years is None else f"{int(year) + int(self.retain_years)}-12-31"

    def year_sealed(self, year) -> bool:
        try:
            return int(year) >= self.since
        except (TypeError, ValueError):
            return False

    def recipients(self, year, unit: str) -> list:
        """Every group recipient registered for (year, unit), the current one last."""
        got = (self.groups.get(str(year)) or {}).get(unit)
        return [] if got is None else [got] if isinstance(got, str) else list(got)

    def recipient(self, year, unit: str):
        """The public group recipient R(Y,U) a writer seals to (None: none registered)."""
        found = self.recipients(year, unit)
        return found[-1] if found else None


class ConfigError(Exception):
    """data/sealing.yaml cannot be read; the message is Chinese and names the file."""


def load_config(data_dir) -> Sealing | None:
    """The sealing set-up of a data tree, or None when the city keeps its records in clear."""
    path = Path(data_dir) / "sealing.yaml"
    if not path.is_file():
        return None
    return config_from_bytes(path.read_bytes(), str(path))


def config_from_bytes(raw: bytes, shown: str) -> Sealing:
    """The sealing set-up in sealing.yaml's bytes (a work tree's, or a commit's), shown as `shown` in messages."""
    from . import yamlstrict

    try:
        tree, _ = yamlstrict.load(raw, shown)
        return Sealing(int(tree["since"]), str(tree["build"]), str(tree["escrow"]), list(tree.get("members") or []),
                       {str(y): dict(g or {}) for y, g in (tree.get("groups") or {}).items()},
                       [int(y) for y in tree.get("shredded") or []],
                       int(tree["retain_years"]) if tree.get("retain_years") not in (None, "") else None,
                       str(tree["build_signer"]) if tree.get("build_signer") else None)
    except yamlstrict.YamlError as exc:
        raise ConfigError(exc.problem().text()) from exc
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ConfigError(f"{shown}:1: error: 加密设置不完整（{exc}）：须有 since、build、escrow、members、groups") from exc
