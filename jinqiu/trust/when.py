"""Trusted time: the day a fact entered the branch, read from the commit graph, never from a date
somebody typed.

A commit's own date is written by whoever made it. What the graph proves is order: a commit is
no older than the commits it builds on (gitlog.History.effective_time), and work merged in
entered the branch with the merge. So the day a fact counts from is the effective day of the
first-parent commit through which its commit entered the branch (the commit itself when it was
made on the branch; the merge that brought it in otherwise). When a forge is configured, the
forge's own record of when it merged a pull request (which no committer writes) is used for the
merges it made, when it is later.

Typed dates (an approval's `date`, `filed_on`, `paid_on`) stay what the person wrote on paper; the
facts that decide a deadline (filed on time, sent to the city on time, paid by the statistics
date) are judged by these days (`judged`: a typed date later than the day may make a fact later,
never earlier). `starts_after` says when a campaign's records all entered the
history after the campaign: then the history cannot date its facts, and the pages say so.
"""

from __future__ import annotations

from typing import Callable

from . import gitlog, registry


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


class Clock:
    """The trusted day of commits of one history. merged_at: for a merge commit, the time (Unix
    seconds) the configured forge says it merged the pull request, or None."""

    def __init__(self, history: gitlog.History | None, merged_at: Callable[[str], int | None] | None = None):
        self.history = history
        self.merged_at = merged_at
        self._into: dict[str, str] | None = None
        self._days: dict[str, str] = {}  # first-parent commit -> its day
        self._seen: dict[str, str] = {}  # any commit asked about -> its day

    def day(self, commit: str | None) -> str:
        """The day the commit entered the branch; "" when it is not in the branch's history."""
        found = self._seen.get(commit)
        if found is None:
            found = self._seen[commit] = self._day(commit)
        return found

    def _day(self, commit: str | None) -> str:
        h = self.history
        if not commit or h is None:
            return ""
        if self._into is None:
            self._into = entered(h)
        first = self._into.get(commit)
        if first is None:
            return ""
        if first not in self._days:
            stamp = h.effective_time(first)
            if self.merged_at is not None and len(h.parents.get(first, [])) > 1:
                forge_time = self.merged_at(first)
                if forge_time:
                    stamp = max(stamp, forge_time)
            self._days[first] = registry.day_of(stamp)
        return self._days[first]

    def first_day(self, rel: str) -> str:
        """The day a file (relative to the data directory) first entered the branch."""
        h = self.history
        versions = h.changes.get(rel, []) if h is not None else []
        days = [d for d in (self.day(c) for c, _ in versions) if d]
        return min(days, default="")


def starts_after(days, campaign: dict) -> str | None:
    """The first day any of these facts entered the history, when that is after the campaign's last
    date (its deadlines and statistics date): then the history cannot date the campaign's facts
    (they were entered afterwards, as the sample data were) and only typed dates are left. None
    otherwise (and when nothing has a day)."""
    known = [d for d in days if d]
    if not known:
        return None
    last = max(str(campaign.get(k) or "") for k in ("materials_due", "report_due", "ends_on", "statistics_as_of"))
    first = min(known)
    return first if last and first > last else None


def typed_only(days, campaign: dict) -> bool:
    """Whether a campaign's deadlines can only be judged by typed dates: no fact of it has a day in
    the history (the data is not in git), or they all entered it after the campaign (starts_after)."""
    days = list(days)
    return not any(days) or starts_after(days, campaign) is not None


def judged(trusted: str, typed, fallback: bool = False) -> str:
    """The day a deadline is judged by: the day the fact entered the branch, or the date typed when
    that is later (a fact is never earlier than its own date, as the timeline counts it; a typed
    date can only make it later, never earlier). fallback (the history starts after the campaign,
    see starts_after): the typed date alone. "" when neither is known: not there yet."""
    typed = typed if isinstance(typed, str) else ""
    if fallback:
        return typed
    return max(trusted, typed) if trusted else ""
