"""Where an application stands: derived by verify (the approvals stage) from verified entries only,
read as rounds (jinqiu.check.rounds); this module names the states and derives one from a walk."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from ..check import rounds

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
    # one Proof per decision counted (those of the latest round in force, level 1 up)
    proofs: tuple = field(default=(), compare=False)
    round: int = field(default=0, compare=False)  # the latest round's number (0: no decision yet)
    filed_day: str = field(default="", compare=False)  # the day the application entered the branch
    paid_day: str = field(default="", compare=False)  # the day the counted payout entered the branch

    def row(self) -> list:
        """The status as a short JSON list (the caches hold 100,000 of these)."""
        return [self.state, self.level, self.complete, self.verified, [list(p) for p in self.proofs],
                self.round, self.filed_day, self.paid_day]

    @classmethod
    def from_row(cls, row) -> "Status":
        state, level, complete, verified, proofs, rnd, filed_day, paid_day = row
        if not (isinstance(state, str) and isinstance(level, int) and isinstance(complete, bool) and isinstance(verified, bool)
                and isinstance(rnd, int) and isinstance(filed_day, str) and isinstance(paid_day, str)):
            raise ValueError("not a status row")
        return cls(state, level, complete, verified, tuple(Proof(*p) for p in proofs) if proofs else (),
                   rnd, filed_day, paid_day)

    @property
    def label(self) -> str:
        if self.state == APPROVED:
            return f"{LEVEL_LABELS[self.level]}通过" + ("（审批完成）" if self.complete else "")
        if self.state == REJECTED:
            return f"{LEVEL_LABELS[self.level]}未通过"
        return LABELS[self.state]

    def proof(self, level: int):
        """The Proof of the decision counted at a level, or None."""
        return next((p for p in self.proofs if p.level == level), None)


class Proof(NamedTuple):
    """What proves one counted decision: its level, the key's fingerprint (or the forge review),
    the commit that brought it, its place in the approvals list (-1: removed from the file without
    authority, and kept in force), and the day it entered the branch (trusted time)."""

    level: int
    proof: str
    commit: str
    index: int = -1
    day: str = ""


def from_claims(record: dict, chain_end: int) -> Status:
    """The status the record's own approvals list claims, unverified (chain_end: the funding level):
    its latest round read as written (jinqiu.check.rounds)."""
    listed = [e for e in record.get("approvals") or [] if isinstance(e, dict)]
    walked = rounds.walk(listed)
    chain = [listed[i] for i in walked.chain]
    if not chain:
        return Status(FILED)
    if walked.rejected:
        return Status(REJECTED, chain[-1]["level"])
    level = chain[-1]["level"]
    complete = level >= chain_end
    if complete and (record.get("aid") or {}).get("paid_on"):
        return Status(PAID, level, True)
    return Status(APPROVED, level, complete)


def derive(entries, walked, current: str, chain_end: int, *, paid: bool = False, filed_day: str = "",
           paid_day: str = "") -> Status:
    """The status from verified entries only: entries (each with .data, .proof, .commit, .index,
    .day) in the order walked (jinqiu.check.rounds.walk, which counted only the verified ones).
    The latest round decides: its decisions in force from level 1 up, on the content as it is now
    (else the record changed after them: stale); a rejection ends it. paid: the payout was verified
    as a signed act of the funding union (verify)."""
    chain = [entries[i] for i in walked.chain]
    if not chain:
        return Status(FILED, verified=True, round=walked.count, filed_day=filed_day)
    if walked.digest != current:
        return Status(STALE, 0, False, True, round=walked.count, filed_day=filed_day)
    proofs = tuple(Proof(e.data["level"], e.proof or "", e.commit or "", e.index if e.removed_by is None else -1, e.day)
                   for e in chain)
    level = chain[-1].data["level"]
    if walked.rejected:
        return Status(REJECTED, level, False, True, proofs, walked.count, filed_day)
    complete = level >= chain_end
    if complete and paid:
        return Status(PAID, level, True, True, proofs, walked.count, filed_day, paid_day)
    return Status(APPROVED, level, complete, True, proofs, walked.count, filed_day)
