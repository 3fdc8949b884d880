"""Where an application stands: derived by verify (the approvals stage) from verified entries only;\nthis module only names the states and has no stage above it to call."""

from __future__ import annotations

from dataclasses import dataclass, field

FILED = "filed"
APPROVED = "approved"  # approved up to `level`
REJECTED = "rejected"
STALE = "stale"
PAID = "paid"

LABELS = {
    FILED: "已填报",
    APPROVED: "已审批",
    REJECTED: "未通过",
    STALE: "内容已改动，待重新审批",
    PAID: "已发放",
}

LEVEL_LABELS = {1: "企业工会（街道工会）审查", 2: "区市县、产业工会审核", 3: "市总工会审批"}


@dataclass(frozen=True)
class Status:
    state: str  # one of FILED, APPROVED, REJECTED, STALE, PAID
    level: int = 0  # highest level reached (approved or rejected at)
    complete: bool = False  # approved all the way to the funding union
    verified: bool = False  # derived from verified signatures, not from what the YAML claims
    # (level, proof, commit) of each approval counted: the key fingerprint (or forge review) and commit
    proofs: tuple = field(default=(), compare=False)

    def row(self) -> list:
        """The status as a short JSON list (the caches hold 100,000 of these)."""
        return [self.state, self.level, self.complete, self.verified, [list(p) for p in self.proofs]]

    @classmethod
    def from_row(cls, row) -> "Status":
        state, level, complete, verified, proofs = row
        if not (isinstance(state, str) and isinstance(level, int) and isinstance(complete, bool) and isinstance(verified, bool)):
            raise ValueError("not a status row")
        return cls(state, level, complete, verified, tuple(tuple(p) for p in proofs) if proofs else ())

    @property
    def label(self) -> str:
        if self.state == APPROVED:
            return f"{LEVEL_LABELS[self.level]}通过" + ("（审批完成）" if self.complete else "")
        if self.state == REJECTED:
            return f"{LEVEL_LABELS[self.level]}未通过"
        return LABELS[self.state]


def from_claims(record: dict, chain_end: int) -> Status:
    """The status the record's own approvals list claims, unverified (chain_end: the funding level)."""
    level = 0
    for entry in record.get("approvals") or []:
        if not isinstance(entry, dict) or entry.get("level") != level + 1:
            break
        if entry.get("decision") == "reject":
            return Status(REJECTED, entry["level"])
        level = entry["level"]
    if level == 0:
        return Status(FILED)
    complete = level >= chain_end
    if complete and (record.get("aid") or {}).get("paid_on"):
        return Status(PAID, level, True)
    return Status(APPROVED, level, complete)


def derive_one(record: dict, entries, chain_end: int, paid: bool = False) -> Status:
    """The status from verified entries only (each has .data, .verified, .stale). Entries made stale
    by a later edit do not count; the chain for the current content (re-approval appends it after
    them) counts from level 1 as far as it runs verified; a verified rejection at the next level
    ends it. paid: the payout was verified as a signed act of the funding union (verify)."""
    level, proofs = 0, []
    for e in entries:
        if e.stale:
            continue
        entry = e.data
        if entry.get("level") != level + 1 or not e.verified:
            break
        proofs.append((entry["level"], getattr(e, "proof", ""), getattr(e, "commit", "") or ""))
        if entry.get("decision") == "reject":
            return Status(REJECTED, entry["level"], False, True, tuple(proofs))
        level = entry["level"]
    if level == 0:
        if any(e.stale for e in entries):
            return Status(STALE, 0, False, True)
        return Status(FILED, verified=True)
    complete = level >= chain_end
    if complete and paid:
        return Status(PAID, level, True, True, tuple(proofs))
    return Status(APPROVED, level, complete, True, tuple(proofs))
