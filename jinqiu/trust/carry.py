"""The carry-over map: approvals made in a city's clear repository, honoured in the sealed repository it
was migrated into (issue 21; design §0 bullet 13; made by jinqiu.edit.migrate).

A clear record's approvals sign digest v1 (over the plaintext); the same record sealed has digest v2
(key-free, over the commitment). The migration, on a city machine with the build key, checked every
record's approvals by running verify on the old repository, sealed the record, and checked that the
sealed record opens back to exactly the plaintext whose v1 digest the approvals sign. It writes what it
found into `data/carry-over.json` (one record a line: its id, its file, v1, v2, the entries that held
in the old repository, and whether its payout held) and signs the file's exact bytes with an
administrator's SSH key into `data/carry-over.json.sig` (namespace NAMESPACE_CARRY).

What verify honours, and why an attacker gains nothing by writing the map:
- anyone with write access can edit or add the map, so it counts only when its signature is good
  and made by a key of the root of trust in force (the pinned administrators' fingerprints);
  anything else (no signature, another key, a byte changed after signing) is an error on the file
  and nothing in it counts;
- only the entries it lists (by rounds.ref, which covers level, decision, opinion, reviewer, date and
  digest) are carried: an entry signed over v1 and added afterwards is not;
- a listed entry on v1 stands for an entry on v2 (the current content only when the record is
  unchanged since: a later change makes it stale as usual); a listed entry on an earlier digest (a
  round made stale in the old repository) is taken as signed on that content, and stays stale;
- every entry still needs its own detached signature by its registered reviewer, as ever; its key is
  judged on the day the old history proved the entry made (the map says it), not on the migration's,
  so a key revoked or expired since (a reviewer who left) does not undo what it signed while valid;
- a payout signed over v1 counts when the map says it held (and the record is unchanged since);
- the days the old history proved (each record filed, each entry made, each payout recorded) stay the
  days verify gives them (the site's timeline and deadlines), not the day of the migration; every
  application of the old repository has a line, with no entries when none of its approvals held.

The v1 digests in the map (and in the carried entries themselves) are unsalted hashes of the old
plaintext: someone who already knows every other value of a record could test guesses of one value
against them. That is the price of carrying old approvals; the sealed values themselves are safe.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from . import sshsig
from ..problems import ERROR, Problem

MAP_FILE = "carry-over.json"
SIG_FILE = "carry-over.json.sig"
NAMESPACE_CARRY = "jinqiu-carry-over@jinqiu.invalid"
VERSION = 1
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


@dataclass(frozen=True)
class Carried:
    """One record's carry-over: the entries that held in the old repository, on v1 (or earlier content)."""

    id: str
    rel: str
    v1: str
    v2: str
    entries: frozenset  # rounds.ref of each entry carried
    paid: bool = False  # its payout held in the old repository (signed over v1)
    days: dict = field(default_factory=dict, compare=False)  # rounds.ref -> the day the old history proved it made
    paid_day: str = ""  # the day the old history proved the payout recorded
    filed: str = ""  # the day the old history proved the record filed (it entered the branch)


def render(records: list, source: str, day: str) -> bytes:
    """The map's bytes: a head line, then one record a line (sorted by file), so that a diff is readable."""
    head = json.dumps({"v": VERSION, "from": source, "made": day}, ensure_ascii=False, sort_keys=True)
    lines = [json.dumps({"id": c.id, "rel": c.rel, "v1": c.v1, "v2": c.v2, "entries": {ref: c.days.get(ref, "") for ref in sorted(c.entries)},
                         **({"paid": c.paid_day or True} if c.paid else {}), **({"filed": c.filed} if c.filed else {})},
                        ensure_ascii=False, sort_keys=True)
             for c in sorted(records, key=lambda c: c.rel)]
    return ("[\n" + ",\n".join([head, *lines]) + "\n]\n").encode("utf-8")


class MapError(Exception):
    """The map cannot be read or is not signed as it must be; the message is Chinese."""


def parse(raw: bytes) -> dict[str, Carried]:
    """{record id: Carried} of the map's bytes; MapError when it is not the shape render writes."""
    try:
        rows = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise MapError(f"不是 jinqiu migrate 写出的 JSON：{exc}") from None
    if not isinstance(rows, list) or not rows or not isinstance(rows[0], dict) or rows[0].get("v") != VERSION:
        raise MapError("不是 jinqiu migrate 写出的承接表（第一项应是版本说明）")
    out = {}
    for n, row in enumerate(rows[1:], 2):
        ok = (isinstance(row, dict) and all(isinstance(row.get(k), str) for k in ("id", "rel", "v1", "v2"))
              and _DIGEST.match(row["v1"]) and _DIGEST.match(row["v2"]) and isinstance(row.get("entries"), dict)
              and all(_DIGEST.match(e) and isinstance(d, str) and (d == "" or _DAY.match(d)) for e, d in row["entries"].items())
              and (row.get("paid") in (None, True) or (isinstance(row.get("paid"), str) and _DAY.match(row["paid"])))
              and (row.get("filed") is None or (isinstance(row.get("filed"), str) and _DAY.match(row["filed"]))))
        if not ok:
            raise MapError(f"第 {n} 项不是一份记录的承接（id、rel、v1、v2、entries）")
        if row["id"] in out:
            raise MapError(f"记录 {row['id']} 出现了两次")
        paid = row.get("paid")
        out[row["id"]] = Carried(row["id"], row["rel"], row["v1"], row["v2"], frozenset(row["entries"]), paid is not None,
                                 {e: d for e, d in row["entries"].items() if d}, paid if isinstance(paid, str) else "",
                                 row.get("filed") or "")
    return out


def check(raw: bytes, sig_raw: bytes | None, root_keys) -> dict[str, Carried]:
    """The map, when its signature is good and made by a key of the root of trust; MapError otherwise."""
    if sig_raw is None:
        raise MapError(f"没有管理员签名（{SIG_FILE}）")
    try:
        sig = sshsig.parse(sig_raw)
        sshsig.verify(sig, raw, NAMESPACE_CARRY)
    except sshsig.SignatureError as exc:
        raise MapError(f"管理员签名无效（{exc}）：承接表在签名之后被改动过，或签名不是为它做的") from None
    if sig.fingerprint not in set(root_keys):
        raise MapError(f"签名密钥 {sig.fingerprint} 不是信任根中的管理员密钥")
    return parse(raw)


def load(data_dir: Path, root_keys, display_root: str) -> tuple[dict[str, Carried], list]:
    """({record id: Carried}, [Problem]) of a data tree: empty and no problem without a map; empty and
    an error on the map when it does not hold (nothing in it counts)."""
    path = Path(data_dir) / MAP_FILE
    if not path.is_file():
        if (Path(data_dir) / SIG_FILE).is_file():
            return {}, [Problem(f"{display_root}/{SIG_FILE}", 1, "", "carry-over-orphan", f"有签名 {SIG_FILE} 却没有承接表 {MAP_FILE}")]
        return {}, []
    raw = path.read_bytes()
    sig_path = Path(data_dir) / SIG_FILE
    sig_raw = sig_path.read_bytes() if sig_path.is_file() else None
    try:
        return check(raw, sig_raw, root_keys), []
    except MapError as exc:
        return {}, [Problem(f"{display_root}/{MAP_FILE}", 1, "", "carry-over-invalid",
                            f"旧仓库审批的承接表不可信：{exc}；其中承接的审批一律不计（须由管理员重新运行 migrate 生成并签名）", ERROR)]


def carried_for(carry: dict, data: dict) -> Carried | None:
    return carry.get(str(data.get("id", ""))) if carry else None


def views(carried: Carried | None, entries: list[dict], ref) -> tuple[list[dict], list[bool]]:
    """(each entry as the rounds read it, whether the map attests its digest): a carried entry on v1 reads
    as one on v2, a withdrawal of a carried entry names it as it reads now. ref: rounds.ref."""
    if carried is None:
        return list(entries), [False] * len(entries)
    out, attested, renamed = [], [], {}
    for e in entries:
        listed = ref(e) in carried.entries
        attested.append(listed)
        if listed and str(e.get("digest", "")) == carried.v1:
            view = dict(e, digest=carried.v2)
            renamed[ref(e)] = ref(view)
            out.append(view)
        else:
            out.append(e)
    if renamed:
        out = [dict(e, withdraws=renamed[str(e["withdraws"])]) if str(e.get("withdraws", "")) in renamed else e for e in out]
    return out, attested
