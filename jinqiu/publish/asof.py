"""The data as it stood at the end of one day (`build --as-of`).

`--as-of` first takes the repository at the last commit of that day, so nothing committed later
counts (and verify proves the approvals with the history up to it). A commit can still hold facts
dated later than itself: an approval entered ahead with next week's date, a payment recorded as
made on the 20th, a report dated after the deadline. `cut` removes every such fact, so that each
dated fact counts only from its own date and never before the commit that holds it:

- an application or graduate registered (填表日期, 登记日期) after the day is not there yet;
- an approval dated after the day has not happened, nor has any level above it: the status is
  the verified run of approvals dated on or before the day (a rejection or a stale approval dated
  later is not yet there either);
- a payment (发放日期) after the day has not been made: the application is approved, not paid;
- a union report (报送日期) after the day has not been filed;
- a graduate's service dated after the day, or a job (就业日期) taken after it, has not happened.
"""

from __future__ import annotations

import copy
from dataclasses import replace

from ..trust import registry
from ..trust import status as st
from ..records.dataset import Dataset


def _after(value, day: str) -> bool:
    return isinstance(value, str) and value > day


def status_on(record: dict, s: st.Status, day: str, chain_end: int) -> st.Status:
    """The status s (derived from the whole verified history up to the commit) as it stood at the
    end of day: only the latest round's counted decisions dated on or before it (a decision that
    was removed from the file without authority counts by the day it entered the branch), paid
    only when paid on or before it. A stale status stays stale: the edit is in the commit."""
    if s.state in (st.FILED, st.STALE):
        return s
    entries = record.get("approvals") or []
    proofs = sorted(s.proofs, key=lambda p: p.level)
    kept = len(proofs)
    for i, p in enumerate(proofs):
        entry = entries[p.index] if 0 <= p.index < len(entries) and isinstance(entries[p.index], dict) else {}
        if _after(entry.get("date") if entry else p.day, day):
            kept = i
            break
    if kept == len(proofs) and s.state == st.REJECTED:
        return s
    if kept == 0:
        return st.Status(st.FILED, verified=s.verified, round=s.round, filed_day=s.filed_day)
    level = proofs[kept - 1].level
    proofs = tuple(proofs[:kept])
    complete = level >= chain_end
    paid_on = (record.get("aid") or {}).get("paid_on")
    if complete and s.state == st.PAID and kept == len(s.proofs) and not _after(paid_on, day):
        return st.Status(st.PAID, level, True, s.verified, proofs, s.round, s.filed_day, s.paid_day)
    return st.Status(st.APPROVED, level, complete, s.verified, proofs, s.round, s.filed_day)


def _cut_record(kind: str, data: dict, day: str) -> dict | None:
    """A copy of one record without what is dated after day (None: the record is not there yet)."""
    if kind in ("application", "graduate") and _after(data.get("filed_on"), day):
        return None
    if kind == "report" and _after(data.get("filed_on"), day):
        return None
    if kind == "application" and _after((data.get("aid") or {}).get("paid_on"), day):
        data = copy.deepcopy(data)
        del data["aid"]["paid_on"]
    if kind == "graduate":
        services = data.get("services") or []
        outcome = data.get("outcome") or {}
        late_services = any(isinstance(s, dict) and _after(s.get("date"), day) for s in services)
        late_job = bool(outcome.get("employed")) and _after(outcome.get("employed_on"), day)
        if late_services or late_job:
            data = copy.deepcopy(data)
            data["services"] = [s for s in services if not (isinstance(s, dict) and _after(s.get("date"), day))]
            if late_job:
                data["outcome"] = {"employed": False}
    return data


def cut(dataset: Dataset, statuses: dict, day: str) -> tuple[Dataset, dict]:
    """(the dataset, the statuses by application id) as they stood at the end of day."""
    records = []
    out = copy.copy(statuses)  # the same kind of mapping, with what verify said about it (verify.Statuses)
    out.clear()
    for rec in dataset.records:
        if rec.data is None:
            records.append(rec)
            continue
        data = _cut_record(rec.kind, rec.data, day)
        if data is None:
            continue
        records.append(rec if data is rec.data else replace(rec, data=data))
        if rec.kind == "application" and rec.data.get("id") in statuses:
            end = registry.funding_level(str(rec.data.get("unit")), (rec.data.get("aid") or {}).get("funding_unit"), dataset.units)
            out[rec.data["id"]] = status_on(rec.data, statuses[rec.data["id"]], day, end)
    view = Dataset(root=dataset.root, display_root=dataset.display_root, records=records, problems=list(dataset.problems))
    view._lines = dataset._lines
    return view, out
