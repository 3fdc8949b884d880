"""The history walk: which commit brought each approval entry and payout into a file (the oldest
version that holds it), and which signed entries or payouts were later removed, by which commits;
those removed without authority are kept in force.
"""

from __future__ import annotations

from pathlib import Path

from . import digest, gitlog, registry
from .entries import (Context, Entry, digest_of_blob, entry_key, entry_payload, git_blob_id, payment_key,
                      payment_payload, split_approvals, without_payout)
from .signatures import NAMESPACE_ENTRY, NAMESPACE_PAYMENT
from ..problems import Problem
from ..records import layout, yamlstrict


LOCATE_BATCH = 2000  # records whose old versions are read together: bounds the bytes held at once


def locate(ctx: Context, data_dir: Path, apps) -> dict[str, list[Entry]]:
    """For every entry of every record, the first commit (oldest first) whose version of the file
    holds it; and the record's digest at that commit, when the content then differed from now.

    Records are taken LOCATE_BATCH at a time and no version's bytes are kept: what later checks
    need of a version (its entries' keys, its payout) is kept instead (ctx.keys_of, ctx.paid_of).
    A version whose blob id is that of the file as it is now is not read from git at all."""
    h = ctx.history
    out = {}
    for start in range(0, len(apps), LOCATE_BATCH):
        batch = apps[start:start + LOCATE_BATCH]
        current_text = {r.rel: (data_dir / r.rel).read_bytes() for r in batch}
        now_blob = {rel: git_blob_id(text) for rel, text in current_text.items()}
        wanted = set()
        if h is not None:
            for r in batch:
                wanted.update(b for _, b in h.changes.get(r.rel, []) if b and b != now_blob[r.rel])
        blobs = h.read(sorted(wanted)) if wanted else {}
        for r in batch:
            blobs[now_blob[r.rel]] = current_text[r.rel]
        for b, raw in blobs.items():
            if b not in ctx.paid_of:
                ctx.paid_of[b] = payment_key(raw)
        for r in batch:
            out[r.rel] = _locate_one(ctx, r, current_text[r.rel], blobs)
    return out


def _locate_one(ctx: Context, r, text: bytes, blobs: dict) -> list[Entry]:
    h = ctx.history
    listed = r.data.get("approvals")
    approvals = [e for e in listed if isinstance(e, dict)] if isinstance(listed, list) else []
    versions = [(c, b) for c, b in (h.changes.get(r.rel, []) if h is not None else []) if b and b in blobs]
    paid = payment_key(text) if (r.data.get("aid") or {}).get("paid_on") else None
    if paid:
        ctx.payment_commits[r.rel] = next((c for c, b in versions if ctx.paid_of[b] == paid), None)
    entries = None
    for parse in (False, True):
        prefix_now, keys_now = split_approvals(text, parse)
        if len(keys_now) != len(approvals):
            continue
        entries = [Entry(i, e, keys_now[i]) for i, e in enumerate(approvals)]
        split = [(c, b, prefix_now, keys_now) if blobs[b] is text else (c, b, *split_approvals(blobs[b], parse))
                 for c, b in versions]
        if not parse:
            ctx.keys_of.update((b, keys) for _, b, _, keys in split)
        for e in entries:
            for commit, blob, prefix_then, keys_then in split:
                if e.key in keys_then:
                    e.commit = commit
                    if prefix_then != prefix_now and without_payout(prefix_then) != without_payout(prefix_now):
                        e.data = dict(e.data, _digest_at_commit=digest_of_blob(blobs[blob], r))
                    break
        if all(e.commit for e in entries) or parse:
            break
    return entries if entries is not None else [Entry(i, e, "") for i, e in enumerate(approvals)]


def _version_keys(ctx: Context, blob: str | None, parse: bool = False) -> set[str]:
    """The identity keys of the approval entries and the payout a version of a file holds."""
    if blob is None:
        return set()
    if not parse and blob in ctx.keys_of and blob in ctx.paid_of:  # known from locate: no need to read it
        keys, paid = set(ctx.keys_of[blob]), ctx.paid_of[blob]
        return keys | ({"payout:" + paid} if paid else set())
    raw = _blob(ctx, blob)
    keys = set(split_approvals(raw, parse)[1])
    if not parse:
        ctx.keys_of[blob] = list(keys)
    paid = ctx.paid_of[blob] = payment_key(raw)
    return keys | ({"payout:" + paid} if paid else set())


def _blob(ctx: Context, blob: str) -> bytes:
    """An old version's bytes, read from git when first wanted (only for the few files whose
    entries changed; locate keeps none)."""
    raw = ctx.blobs.get(blob)
    if raw is None:
        ctx.blobs.update(ctx.history.read([blob]))
        raw = ctx.blobs.get(blob, b"")
    return raw


def _parsed_version(ctx: Context, blob: str, rel: str):
    """(the file's tree as read, its typed data) of an old version, or None."""
    try:
        tree, _ = yamlstrict.load(_blob(ctx, blob), rel)
        data, _ = yamlstrict.coerce(tree, layout.schema("application"), rel, lambda p: 1)
        return (tree, data) if isinstance(tree, dict) and isinstance(data, dict) else None
    except Exception:  # an unreadable old version proves nothing
        return None


def _removable(rel: str, versions) -> bool:
    return rel.startswith("applications/") and len(versions) >= 2


def removed(ctx: Context, data_dir: Path, dataset, rels=None) -> list[Problem]:
    """Entries are append-only: an approval entry (or payout) that was signed by its own reviewer
    and later disappears is an error unless each commit that removed it is signed by an
    administrator or by that reviewer (withdrawing it). A decision removed without that authority
    stays in force: it is kept (ctx.kept, with the commit that brought it) and counts as if it were
    still in the file; so does a payout (ctx.kept_payout). rels: of these files only (a file's
    findings rest on its own history alone: files can be looked at in batches)."""
    h = ctx.history
    out: list[Problem] = []
    changes = h.changes if rels is None else {rel: h.changes[rel] for rel in rels if rel in h.changes}
    unknown = sorted({b for rel, versions in changes.items() if _removable(rel, versions)
                      for _, b in versions if b and not (b in ctx.keys_of and b in ctx.paid_of)})
    for start in range(0, len(unknown), LOCATE_BATCH):  # what locate did not see (deleted files, say), in batches
        for b, raw in h.read(unknown[start:start + LOCATE_BATCH]).items():
            ctx.keys_of[b], ctx.paid_of[b] = split_approvals(raw)[1], payment_key(raw)
    for rel, versions in changes.items():
        if not _removable(rel, versions):
            continue
        path = data_dir / rel
        now_raw = path.read_bytes() if path.is_file() else b""
        now = set(split_approvals(now_raw)[1]) | ({"payout:" + payment_key(now_raw)} if payment_key(now_raw) else set())
        gone = set().union(*(_version_keys(ctx, b) for _, b in versions)) - now
        if not gone:
            continue
        # by their values, so that reformatting an entry is not taken for removing it
        now_parsed = set(split_approvals(now_raw, True)[1]) | {k for k in now if k.startswith("payout:")}
        found = _signed_removed_entries(ctx, rel, versions, now_parsed)
        if not found:
            continue
        removals = _removing_commits(ctx, rel)
        shown = dataset.display_root.rstrip("/") + "/" + rel
        line = 1
        if path.is_file():
            line = now_raw[:max(0, now_raw.find(b"\napprovals:") + 1)].count(b"\n") + 1
        kept = "它仍然有效、照常计入；撤回只能由审核人本人或管理员签名（approve --withdraw，见 docs/review.md）"
        for key, (what, entitled, entry) in sorted(found.items(), key=lambda kv: kv[0]):
            by = [c for c, old, new in removals if key in _version_keys(ctx, old, True) and key not in _version_keys(ctx, new, True)]
            if not by:
                out.append(Problem(shown, line, "/approvals", "approval-removed",
                                   f"{what}曾经签名有效，现在工作区里被删掉了（尚未提交）；审批记录只能追加，不能删除。" + kept))
                _keep(ctx, rel, key, entry, "")
                continue
            for c in by:
                commit = ctx.commits.get(c) or h.commits([c]).get(c)
                key_, fpr, reason = ctx.signers.commit(commit) if commit is not None else (None, None, "unsigned")
                ok = key_ is not None and (ctx.reg.is_admin(key_.reviewer) or key_.reviewer == entitled) \
                    and not key_.invalid_on(registry.day_of(h.effective_time(c))) \
                    and not (ctx.walk is not None and ctx.walk.revoked_before(h, fpr, c))
                if not ok:
                    signer = f"由 {key_.reviewer} 签名" if key_ is not None else "没有有效签名"
                    out.append(Problem(shown, line, "/approvals", "approval-removed",
                                       f"{what}曾经签名有效，被提交 {c[:10]} 删除，而这次提交{signer}，不是管理员或 {entitled} 本人；"
                                       "审批记录只能追加，不能删除（内容改动后请在末尾追加新的审批）。" + kept))
                    if (rel, key) not in ctx.kept_keys:
                        ctx.kept_keys.add((rel, key))
                        _keep(ctx, rel, key, entry, c)
    return out


def _keep(ctx: Context, rel: str, key: str, entry, by: str) -> None:
    """A signed entry (or payout) removed without authority, kept in force."""
    if key.startswith("payout:"):
        ctx.kept_payout[rel] = entry
        return
    data, index, commit, at_commit = entry
    e = Entry(index, dict(data, _digest_at_commit=at_commit), key, commit=commit)
    e.removed_by = by or "（工作区）"
    ctx.kept.setdefault(rel, []).append(e)


_DECISIONS = {"approve": "同意", "reject": "不同意", "withdraw": "撤回"}


def _signed_removed_entries(ctx: Context, rel: str, versions, now_parsed: set[str]) -> dict[str, tuple]:
    """{parsed identity key: (what it was, who may withdraw it, what to keep in force)} of the
    entries and payouts once in the file, not in it now, that were signed by the reviewer they
    name. What is kept: for an entry (its typed values, its place in the list, the commit that
    brought it, the record's digest at that commit); for a payout (the typed `aid`, that commit)."""
    h = ctx.history
    found: dict[str, tuple[str, str]] = {}
    seen: set[str] = set()
    for commit, blob in versions:
        if blob is None:
            continue
        keys = _version_keys(ctx, blob, True) - now_parsed - seen
        if not keys:
            continue
        seen |= keys
        parsed = _parsed_version(ctx, blob, rel)
        if parsed is None:
            continue
        tree, data = parsed
        record_id = str(data.get("id", ""))
        c = ctx.commits.get(commit) or h.commits([commit]).get(commit)
        listed = tree.get("approvals")
        typed = data.get("approvals") if isinstance(data.get("approvals"), list) else []
        at_commit = digest.of(data)
        for n, e in enumerate(listed if isinstance(listed, list) else []):
            if not isinstance(e, dict) or entry_key(e) not in keys:
                continue
            rid = str(e.get("reviewer", ""))
            if e.get("signature"):
                key, _, _ = ctx.signers.check(str(e["signature"]).encode(), entry_payload(record_id, e), NAMESPACE_ENTRY)
            else:
                key, _, _ = ctx.signers.commit(c) if c is not None else (None, None, None)
            if key is not None and key.reviewer == rid and n < len(typed) and isinstance(typed[n], dict):
                found[entry_key(e)] = (f"第 {e.get('level')} 级审批（{rid}，{_DECISIONS.get(e.get('decision'), e.get('decision'))}，"
                                        f"{e.get('date')}）", rid, (typed[n], n, commit, at_commit))
        aid = data.get("aid") or {}
        paid = payment_key(_blob(ctx, blob))
        if paid and "payout:" + paid in keys:
            by = str(aid.get("paid_by") or "")
            if aid.get("paid_signature"):
                key, _, _ = ctx.signers.check(str(aid["paid_signature"]).encode(), payment_payload(record_id, aid, digest.of(data)),
                                              NAMESPACE_PAYMENT)
            else:
                key, _, _ = ctx.signers.commit(c) if c is not None else (None, None, None)
            if key is not None and key.reviewer == by:
                found["payout:" + paid] = (f"发放登记（{aid.get('paid_on')}，{by}）", by, (dict(aid), commit, at_commit))
    return found


def _removing_commits(ctx: Context, rel: str) -> list[tuple[str, str | None, str | None]]:
    """(commit, the file's blob in a parent, its blob in the commit) for every commit, merges
    included (against each parent), that changed the file."""
    h = ctx.history
    spec = f"{h.prefix}/{rel}" if h.prefix else rel
    raw = gitlog.git(h.repo, "log", "--full-history", "-m", "--no-renames", "--raw", "--no-abbrev", "--format=%x01%H", "-z",
                     h.head, "--", spec)
    out, cur = [], None
    fields = raw.split(b"\0")
    for i, f in enumerate(fields):
        f = f.lstrip(b"\n")
        if f.startswith(b"\x01"):
            cur = f[1:].strip().decode()
        elif f.startswith(b":") and cur:
            meta = f.split(b" ")
            old, new = meta[2].decode(), meta[3].decode()
            zero = "0" * len(old)
            out.append((cur, None if old == zero else old, None if new == zero else new))
    return out
