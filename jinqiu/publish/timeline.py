"""The campaign over time: day by day, how many applications were filed, approved at each level,
approved all the way and paid, for the city and for each district and industry union, read from
the repository's history in one pass (not a rebuild per day).

What "as verified at each day" means here. A fact counts on day D when all of these hold:

1. it verifies today: only the approvals that verify proves (status.proofs, each with the commit
   that introduced it) count, exactly as for the site's other figures;
2. it had entered the branch by the end of D: the day a commit counts from is the day it entered
   the first-parent history of the branch (for work merged in, the merge commit's day), and a
   commit's day is its effective time (gitlog.History.effective_time: its claimed date, but never
   before any commit it builds on); so the graph orders the facts, and a backdated commit on a
   side branch cannot move its facts to before the merge that brought them in;
3. it is dated on or before D: an approval's own date, the 填表日期 of the application, the
   发放日期 of a payment (as `build --as-of` cuts every dated fact, see jinqiu.publish.asof).

So the figure for day D is what `build --as-of D` shows, with these differences, all towards
counting less: an approval that verified then but is stale or gone now (the record was edited
afterwards, or re-approved) is not counted on the days before the edit; and the registry is
today's (a key registered later with an earlier valid_from counts from that date, as verify
allows). A payment counts from the first commit whose version of the file holds its 发放日期
(and then on, without a gap). An application not yet committed is not on the chart.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

from ..trust import gitlog, registry
from ..trust import status as st

# The lines of the chart, in order: (key, label).
SERIES = [
    ("filed", "已填报"),
    ("level1", "基层工会审查通过"),
    ("level2", "区市县、产业工会审核通过"),
    ("complete", "审批完成"),
    ("paid", "已发放"),
]
_PAID_LINE = re.compile(rb"(?m)^\s+paid_on:")


@dataclass
class Timeline:
    """Cumulative counts per day for one union (and every union below it)."""

    days: list[str]  # every day from the first to the last, ISO dates
    counts: dict = field(default_factory=dict)  # series key -> [count on each day]


def entered(history: gitlog.History) -> dict[str, str]:
    """commit -> the first-parent commit of the branch through which it entered (itself for a
    commit on the first-parent chain; the merge for a commit merged in)."""
    chain, node = [], history.head
    while node is not None:
        chain.append(node)
        parents = history.parents.get(node) or []
        node = parents[0] if parents else None
    out: dict[str, str] = {}
    for first in reversed(chain):  # oldest first: a commit belongs to the earliest that reaches it
        stack = [first]
        while stack:
            c = stack.pop()
            if c in out:
                continue
            out[c] = first
            stack.extend(p for p in history.parents.get(c, []) if p not in out)
    return out


def _day_range(first: str, last: str) -> list[str]:
    a, b = date.fromisoformat(first), date.fromisoformat(last)
    return [(a + timedelta(days=i)).isoformat() for i in range((b - a).days + 1)]


def events(dataset, year: int, statuses: dict, history: gitlog.History) -> list[tuple[str, dict]]:
    """(application's unit, {series key: the day it counts from}) for each committed application."""
    apps = [r for r in dataset.applications if r.data.get("year") == year]
    found = Events(history).of([(r.rel, r.data, statuses.get(r.data["id"])) for r in apps])
    return [ev for ev in found if ev is not None]


class Events:
    """The days each application's facts count from (see the module's docstring), one record at a
    time or many: a record's events depend on its own data, its verified status and the history of
    its own file (and on the graph, for the day each commit entered the branch)."""

    def __init__(self, history: gitlog.History):
        self.history = history
        self.into = entered(history)
        self.day_memo: dict[str, str] = {}

    def day_of(self, commit: str) -> str | None:
        first = self.into.get(commit)
        if first is None:
            return None
        if first not in self.day_memo:
            self.day_memo[first] = registry.day_of(self.history.effective_time(first))
        return self.day_memo[first]

    def of(self, apps) -> list:
        """For each (rel, data, status or None): (unit, {series key: day}), or None when the
        application is not committed (or has no status)."""
        history = self.history
        paid_blobs = {}
        for rel, d, s in apps:
            if s is not None and s.state == st.PAID:
                for commit, blob in history.changes.get(rel, []):
                    if blob:
                        paid_blobs[blob] = None
        texts = history.read(sorted(paid_blobs)) if paid_blobs else {}
        return [self._one(rel, d, s, texts) for rel, d, s in apps]

    def _one(self, rel, d, s, texts):
        day_of = self.day_of
        versions = self.history.changes.get(rel, [])
        if not versions or s is None:
            return None
        first_day = day_of(versions[0][0])
        if first_day is None:
            return None
        ev = {"filed": max(first_day, str(d.get("filed_on") or ""))}
        entries = [e for e in d.get("approvals") or [] if isinstance(e, dict)]
        reached, ok = ev["filed"], True
        for level, _proof, commit in sorted(s.proofs):
            commit_day = day_of(commit) if commit else None
            entry = entries[level - 1] if level - 1 < len(entries) else {}
            if commit_day is None or entry.get("decision") == "reject":
                ok = False
                break
            reached = max(reached, commit_day, str(entry.get("date") or ""))
            ev[f"level{level}"] = reached
        if ok and s.complete:
            ev["complete"] = reached
            if s.state == st.PAID:
                since = None
                for commit, blob in versions:
                    has = blob is not None and bool(_PAID_LINE.search(texts.get(blob, b"")))
                    since = (since or commit) if has else None
                paid_day = day_of(since) if since else None
                if paid_day:
                    ev["paid"] = max(reached, paid_day, str((d.get("aid") or {}).get("paid_on") or ""))
        ev.pop("level3", None)  # the third level is the city's: its approvals are 审批完成
        return d["unit"], ev


def build(dataset, year: int, statuses: dict, history: gitlog.History | None, groups: dict,
          first: str, last: str) -> dict[str, Timeline]:
    """group id -> Timeline. groups: unit id of a filing union -> the group ids it counts in (the
    city's id and its district or industry union's id). first, last: the days shown."""
    if history is None or last < first:
        return {}
    return count(events(dataset, year, statuses, history), groups, first, last)


def count(found, groups: dict, first: str, last: str) -> dict[str, Timeline]:
    """group id -> Timeline from the events of every application (events)."""
    if last < first:
        return {}
    days = _day_range(first, last)
    index = {day: i for i, day in enumerate(days)}
    per: dict[str, dict[str, Counter]] = {}
    for unit, ev in found:
        for g in groups.get(unit, ()):
            series = per.setdefault(g, {k: Counter() for k, _ in SERIES})
            for key, day in ev.items():
                if day <= last:
                    series[key][index[max(day, first)]] += 1
    out = {}
    for g, series in per.items():
        counts = {}
        for key, _ in SERIES:
            running, line = 0, []
            for i in range(len(days)):
                running += series[key][i]
                line.append(running)
            counts[key] = line
        out[g] = Timeline(days, counts)
    return out
