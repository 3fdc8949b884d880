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
allows). A payment counts from the day the commit that recorded it entered the branch. The days
are verify's (jinqiu.trust.when: Status.filed_day, Proof.day, Status.paid_day): this module only
adds them up. An application not yet committed is not on the chart.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

from ..trust import gitlog, when
from ..trust import status as st

# The lines of the chart, in order: (key, label).
SERIES = [
    ("filed", "已填报"),
    ("level1", "基层工会审查通过"),
    ("level2", "区市县、产业工会审核通过"),
    ("complete", "审批完成"),
    ("paid", "已发放"),
]


@dataclass
class Timeline:
    """Cumulative counts per day for one union (and every union below it)."""

    days: list[str]  # every day from the first to the last, ISO dates
    counts: dict = field(default_factory=dict)  # series key -> [count on each day]


entered = when.entered  # commit -> the first-parent commit through which it entered the branch


def _day_range(first: str, last: str) -> list[str]:
    a, b = date.fromisoformat(first), date.fromisoformat(last)
    return [(a + timedelta(days=i)).isoformat() for i in range((b - a).days + 1)]


def events(dataset, year: int, statuses: dict) -> list[tuple[str, dict]]:
    """(application's unit, {series key: the day it counts from}) for each committed application:
    the trusted days verify gave each counted fact (status.filed_day, Proof.day, status.paid_day),
    never before the fact's own date."""
    out = []
    for rec in dataset.applications:
        d = rec.data
        if d.get("year") != year:
            continue
        s = statuses.get(d["id"])
        if s is None or not s.filed_day:
            continue
        ev = {"filed": max(s.filed_day, str(d.get("filed_on") or ""))}
        entries = d.get("approvals") or []
        reached, ok = ev["filed"], True
        for p in sorted(s.proofs, key=lambda p: p.level):
            entry = entries[p.index] if 0 <= p.index < len(entries) and isinstance(entries[p.index], dict) else {}
            if not p.day or entry.get("decision") == "reject":
                ok = False
                break
            reached = max(reached, p.day, str(entry.get("date") or ""))
            ev[f"level{p.level}"] = reached
        if ok and s.complete:
            ev["complete"] = reached
            if s.state == st.PAID and s.paid_day:
                ev["paid"] = max(reached, s.paid_day, str((d.get("aid") or {}).get("paid_on") or ""))
        ev.pop("level3", None)  # the third level is the city's: its approvals are 审批完成
        out.append((d["unit"], ev))
    return out


def last_days(dataset, year: int, statuses: dict) -> list[str]:
    """The last day a counted fact of the year entered the branch (a late city approval, a payout),
    as a list of at most one: the chart's axis runs at least that far (and past the campaign's end)."""
    days = [d for r in dataset.applications if r.data.get("year") == year
            for s in [statuses.get(r.data.get("id"))] if s is not None
            for d in [s.paid_day, *(p.day for p in s.proofs)] if d]
    return [max(days)] if days else []


def build(dataset, year: int, statuses: dict, history: gitlog.History | None, groups: dict,
          first: str, last: str) -> dict[str, Timeline]:
    """group id -> Timeline. groups: unit id of a filing union -> the group ids it counts in (the
    city's id and its district or industry union's id). first, last: the days shown."""
    if history is None or last < first:
        return {}
    return count(events(dataset, year, statuses), groups, first, last)


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
