"""An application's decisions read as rounds: the one reading that validate, approve, verify,
history and the forms share.

The `approvals` list is append-only history. What it decides:

- A round is the decisions on one content (one digest): level 1 first, then up the chain in order,
  each level once. A decision on other content than the round's starts a new round, which again
  starts at level 1: the record was edited (a correction, or a fix after a rejection).
- A rejection ends its round: nothing more is decided on that content, unless the rejection is
  withdrawn.
- A withdrawal (decision `withdraw`, naming the withdrawn decision by `withdraws`: `ref` of it)
  takes a decision of the current round out of force, and with it every decision the round made
  above it (they rested on it): the round goes on from that level.
- Only the latest round decides the application's status; earlier rounds stay as signed history.

`walk` takes the entries in the order they were made (verify: the order their commits entered the
history, and only the entries whose signatures hold; validate and approve: the list as written).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

APPROVE, REJECT, WITHDRAW = "approve", "reject", "withdraw"
DECISIONS = {APPROVE: "同意", REJECT: "不同意", WITHDRAW: "撤回"}
LEVELS = {1: "企业工会（街道工会）审查", 2: "区市县、产业工会审核", 3: "市总工会审批"}
REF_FIELDS = ("level", "decision", "opinion", "reviewer", "date", "digest")


def ref(entry: dict) -> str:
    """How a withdrawal names the decision it withdraws: the SHA-256 of that decision's own fields
    (level, decision, opinion, reviewer, date, digest), as text."""
    fields = {k: str(entry.get(k, "")) for k in REF_FIELDS}
    raw = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def describe(entry: dict) -> str:
    """A decision as messages name it: 第 2 级“不同意”（r-zs-01，2011-07-22）."""
    return (f"第 {entry.get('level')} 级“{DECISIONS.get(entry.get('decision'), entry.get('decision'))}”"
            f"（{entry.get('reviewer')}，{entry.get('date')}）")


@dataclass
class Step:
    """What the walk found about one entry."""

    round: int = 0  # the round it belongs to, from 1; 0: none (a withdrawal that names nothing)
    problem: tuple | None = None  # (code, message, severity): it does not count
    withdrawn_by: int | None = None  # a decision: the withdrawal that took it out of force
    withdraws: int | None = None  # a withdrawal: the decision it took out of force


@dataclass
class Rounds:
    steps: list
    chain: list = field(default_factory=list)  # the latest round's decisions in force, level 1 up
    digest: str = ""  # the content the latest round decides on ("" when there is no round)
    count: int = 0  # how many rounds

    @property
    def rejected(self) -> bool:
        return bool(self.chain) and self._entries[self.chain[-1]].get("decision") == REJECT

    _entries: list = field(default_factory=list, repr=False)


def _level(entry) -> int | None:
    level = entry.get("level")
    return level if isinstance(level, int) and not isinstance(level, bool) else None


def walk(entries: list, counts: list | None = None) -> Rounds:
    """The rounds of a list of entries (dicts) in the order they were made; each entry's Step.
    counts: which entries may count at all (verify: those whose signature and registration hold);
    the others decide nothing, but a withdrawal may still name them."""
    steps = [Step() for _ in entries]
    out = Rounds(steps, _entries=entries)
    by_ref: dict[str, int] = {}
    withdrawals = any(e.get("decision") == WITHDRAW for e in entries)  # refs are worked out only when needed
    chain: list[int] = []
    digest = None
    for i, e in enumerate(entries):
        step = steps[i]
        level = _level(e)
        if counts is not None and not counts[i]:
            step.round = out.count
            if withdrawals and e.get("decision") != WITHDRAW:
                by_ref.setdefault(ref(e), i)
            continue
        if e.get("decision") == WITHDRAW:
            target = by_ref.get(str(e.get("withdraws") or ""))
            if target is None:
                step.problem = ("withdraw-unknown", "撤回的审批（withdraws）在这份申请此前的审批中找不到：这条撤回不起作用", "error")
                continue
            t = entries[target]
            step.round = steps[target].round
            if level != _level(t):
                step.problem = ("withdraw-level", f"撤回的是{describe(t)}，撤回条目的层级应为第 {_level(t)} 级，现为第 {level} 级", "error")
            elif target not in chain:
                why = ("它已被撤回" if steps[target].withdrawn_by is not None
                       else "它属于早先的一轮审批，已不决定申请的状态" if steps[target].round != out.count
                       else "它本来就不计入")
                step.problem = ("withdraw-not-in-force", f"撤回的{describe(t)}已不在效力中（{why}），这条撤回不起作用", "warning")
            else:
                step.withdraws = target
                cut = chain.index(target)
                for j in chain[cut:]:
                    steps[j].withdrawn_by = i
                chain = chain[:cut]
            continue
        d = str(e.get("digest") or "")
        ended = bool(chain) and entries[chain[-1]].get("decision") == REJECT
        new_round = (out.count == 0 or (d and digest and d != digest)
                     or (not d and level == 1 and ended))  # entries without a digest: legacy data
        if new_round:
            out.count += 1
            digest, chain = d, []
            ended = False
        step.round = out.count
        if level is None:
            continue  # the schema says what is wrong with it
        expected = len(chain) + 1
        if ended:
            r = entries[chain[-1]]
            step.problem = ("approval-after-reject",
                            f"本轮已有{describe(r)}，审批到此结束，不能再有后续审批：申请修改后从第 1 级开始新一轮审批，"
                            "或由该审核人（或管理员）撤回“不同意”（approve --withdraw）", "error")
        elif level != expected:
            told = f"（这一条应为第 {expected} 级：{LEVELS.get(expected, '')}）"
            if new_round and out.count > 1:
                code, message = "approval-skipped-level", f"内容改动后的新一轮（第 {out.count} 轮）审批须从第 1 级开始，现为第 {level} 级"
            elif level < expected:
                code, message = "approval-repeated-level", (f"第 {level} 级审批重复：本轮已有第 {level} 级审批，不能重复{told}；"
                                                            "要改变决定，先撤回原审批（approve --withdraw）")
            else:
                code, message = "approval-skipped-level", f"跳过了第 {expected} 级审批，直接到第 {level} 级{told}：各级须依次审批"
            step.problem = (code, message, "error")
        else:
            chain.append(i)
        if withdrawals:
            by_ref.setdefault(ref(e), i)
    out.chain, out.digest = chain, digest or ""
    return out
