"""An approval entry and a payout as they stand in a file: their identity across versions of the
file, what their detached signatures sign, and the state one verify run shares (Context).

The approvals block is read off the text without parsing the whole file (canonical files put list
items at column 0, as approve and fmt write them); a hand-formatted file is parsed.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field

from . import digest, gitlog, registry
from ..problems import ERROR
from ..records import layout, yamlstrict


@dataclass
class Entry:
    """One approval entry and what verification found about it."""

    index: int
    data: dict
    key: str  # identity of the entry across versions of the file (its exact text values)
    commit: str | None = None
    verified: bool = False
    stale: bool = False
    proof: str = ""  # what proved it: the signing key's fingerprint, or the forge review
    payload: bytes | None = None  # what its detached signature signs (entry_payload), worked out once
    day: str = ""  # the day its commit entered the branch (trusted time, jinqiu.trust.when)
    removed_by: str | None = None  # removed from the file by this commit without authority (kept in force)
    problems: list[tuple[str, str, str]] = field(default_factory=list)  # (code, message, severity)

    def add(self, code, message, severity=ERROR):
        self.problems.append((code, message, severity))


def entry_key(raw_entry) -> str:
    return json.dumps(raw_entry, sort_keys=True, ensure_ascii=False)


_BLOCK_END = re.compile(rb"(?m)^[^\s#-]")


_ITEM = re.compile(rb"(?m)^- ")


def _approvals_block(text: bytes) -> tuple[bytes, bytes]:
    """(the file without its approvals block, the block)."""
    m = re.search(rb"(?m)^approvals:", text)
    if not m:
        return text, b""
    block = text[m.start():]
    nxt = _BLOCK_END.search(block, len(b"approvals:"))
    if nxt:
        return text[:m.start()] + block[nxt.start():], block[:nxt.start()]
    return text[:m.start()], block


_UNTIDY = re.compile(rb"[ \t\r\v\f]\n|\n[ \t\r\v\f]*\n|\r")


def entry_text(chunk: bytes) -> bytes:
    """An entry's lines without trailing blanks and without blank lines, joined by newlines. Most
    entries (as approve and fmt write them) have neither: then that is the chunk without its last
    newlines, and no line is split."""
    body = chunk.rstrip(b"\n")
    if not _UNTIDY.search(body) and body[-1:] not in (b" ", b"\t", b"\v", b"\f") and body[:1] != b"\n":
        return body
    return b"\n".join(line.rstrip() for line in chunk.splitlines() if line.strip())


def split_approvals(text: bytes, parse: bool = False) -> tuple[bytes, list[str]]:
    """(the file's text before its approvals, the identity key of each entry) without parsing the
    whole file. Fast path: each entry's own text (canonical files put list items at column 0, as
    approve and fmt write them); parse=True: each entry's parsed values, for hand-formatted files."""
    rest, block = _approvals_block(text)
    if not block:
        return rest, []
    if not parse:  # a digest of each entry's text (the text itself, signature and all, is 0.5 KB an entry)
        starts = [m.start() for m in _ITEM.finditer(block)]
        return rest, [hashlib.blake2b(entry_text(block[a:b]), digest_size=16).hexdigest()
                      for a, b in zip(starts, starts[1:] + [len(block)])]
    try:
        tree, _ = yamlstrict.load(block, "approvals")
    except yamlstrict.YamlError:
        return rest, []
    entries = tree.get("approvals") or []
    if not isinstance(entries, list):
        return rest, []
    return rest, [entry_key(e) for e in entries]


def entry_payload(record_id: str, entry: dict) -> bytes:
    """What a detached signature inside an entry signs: the record id and the entry's own fields
    (a withdrawal's `withdraws` too; the fields of every other entry are those they always were)."""
    fields = {k: str(entry.get(k, "")) for k in ("level", "decision", "opinion", "reviewer", "date", "digest")}
    if "withdraws" in entry:
        fields["withdraws"] = str(entry["withdraws"])
    fields["record"] = record_id
    return json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def payload_of(record, e: Entry) -> bytes:
    if e.payload is None:
        e.payload = entry_payload(record.data.get("id", ""), e.data)
    return e.payload


def git_blob_id(text: bytes) -> str:
    """The id git gives a blob with these bytes (SHA-1 of its header and content)."""
    return hashlib.sha1(b"blob %d\0" % len(text) + text).hexdigest()


_PAID_LINE = re.compile(rb'(?m)^  (paid_on|paid_by):[ \t]*["\']?([^"\'\n#]*?)["\']?[ \t]*$')


_AID_BLOCK = re.compile(rb"(?m)^aid:[ \t]*\n((?:[ ]{2}.*\n)*)")
_PAYOUT_LINES = re.compile(rb"(?m)^  paid_(?:on|by):.*\n|^  paid_signature: \|[-+]?\n(?:    .*\n)*")


def without_payout(text: bytes) -> bytes:
    """The text without the payout's lines in its aid block as approve and fmt write them (the
    approval digest leaves the payout out: two versions differing in those lines only have one
    digest, known without parsing either); a text written otherwise is left as it is."""
    m = _AID_BLOCK.search(text)
    if not m or b"paid_" not in m.group(1):
        return text
    return text[:m.start(1)] + _PAYOUT_LINES.sub(b"", m.group(1)) + text[m.end(1):]


def payment_key(text: bytes) -> str | None:
    """The payout a version of a file records (its date and who recorded it), read off the text."""
    if b"paid_on" not in text:
        return None
    found = dict((k.decode(), v.decode(errors="replace")) for k, v in _PAID_LINE.findall(text))
    return f"{found['paid_on']}|{found.get('paid_by', '')}" if found.get("paid_on") else None


def payment_payload(record_id: str, aid: dict, content_digest: str) -> bytes:
    """What a payout's detached signature signs: the record, the payout date, who recorded it, and
    the digest of the record's content (amount and funding union included)."""
    fields = {"record": record_id, "paid_on": str(aid.get("paid_on", "")), "paid_by": str(aid.get("paid_by", "")),
              "digest": content_digest}
    return json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def record_digest(record) -> str:
    """The approval digest of a record as it is now (digest.of its typed data)."""
    return digest.of(record.data)


def digest_of_blob(raw: bytes, record) -> str | None:
    """The approval digest of an old version of a record's file; None when it cannot be read."""
    try:
        tree, _ = yamlstrict.load(raw, record.path)
        data, _ = yamlstrict.coerce(tree, layout.schema(record.kind), record.path, lambda p: 1)
        return digest.of(data)
    except Exception:
        return None


_APPROVALS_KEY = re.compile(rb"(?m)^approvals:")


def approvals_line(dataset, r) -> int:
    """The line of a record's approvals key: read off the text when the key is there exactly once
    at column 0 (as every canonical file has it), else from the parsed file (dataset.line)."""
    try:
        raw = (dataset.root / r.rel).read_bytes()
    except OSError:
        raw = b""
    hits = _APPROVALS_KEY.findall(raw, 0, len(raw)) if not raw.lstrip().startswith((b"{", b"---")) else []
    if len(hits) == 1:
        return raw.count(b"\n", 0, _APPROVALS_KEY.search(raw).start()) + 1
    return dataset.line(r, "/approvals")


@dataclass
class Context:
    """What the checks of one verify run share: the registry, the history and what was read of it."""

    data: object  # the Dataset
    reg: registry.Registry
    history: gitlog.History | None
    signers: object  # signatures.Signers, or None where nothing is signed (approve's dry check)
    strict: bool
    units: dict
    digests: dict  # current digest -> record rel
    forge_checker: object
    commits: dict = field(default_factory=dict)
    registry_commits: set = field(default_factory=set)
    walk: object = None  # anchor.Walk: revocations by the graph
    payment_commits: dict = field(default_factory=dict)  # record rel -> the commit that recorded its payout
    blobs: dict = field(default_factory=dict)  # blob id -> bytes, read once
    keys_of: dict = field(default_factory=dict)  # blob id -> the entries' identity keys (fast path)
    paid_of: dict = field(default_factory=dict)  # blob id -> the payout it records (payment_key), or None
    current: dict = field(default_factory=dict)  # record rel -> its current digest (each computed once)
    clock: object = None  # when.Clock: the day each commit entered the branch
    position: dict = field(default_factory=dict)  # commit -> its place in the history (parents first)
    kept: dict = field(default_factory=dict)  # record rel -> [Entry] removed without authority, still in force
    kept_payout: dict = field(default_factory=dict)  # record rel -> (aid, commit, digest) of a payout so removed
    kept_keys: set = field(default_factory=set)
    tags: object = None  # check.dupetags.Tags: the build's signed tags (a sealed record's approval-self without a key)
    carry: dict = field(default_factory=dict)  # record id -> carry.Carried: approvals carried over from a clear repository
