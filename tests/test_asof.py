"""The data as it stood at the end of a day: every dated fact cut at the day (jinqiu.publish.asof)."""

from jinqiu.publish import asof
from jinqiu.trust import status as st


def record(dates, paid_on=None, decisions=None):
    decisions = decisions or ["approve"] * len(dates)
    return {
        "approvals": [{"level": i + 1, "decision": d, "date": day} for i, (day, d) in enumerate(zip(dates, decisions))],
        "aid": {"paid_on": paid_on} if paid_on else {},
    }


PROOFS = tuple(st.Proof(n, f"fp{n}", f"c{n}", n - 1, "2011-08-01") for n in (1, 2, 3))  # (level, key, commit, index, day)


def test_paid_only_from_the_payment_date():
    rec = record(["2011-08-02", "2011-08-03", "2011-08-04"], paid_on="2011-08-20")
    s = st.Status(st.PAID, 3, True, True, PROOFS)
    assert asof.status_on(rec, s, "2011-08-20", 3) == s
    assert asof.status_on(rec, s, "2011-08-19", 3) == st.Status(st.APPROVED, 3, True, True)


def test_approvals_dated_after_the_day_do_not_count_nor_any_level_above_them():
    rec = record(["2011-08-02", "2011-08-12", "2011-08-04"])
    s = st.Status(st.APPROVED, 3, True, True, PROOFS)
    cut = asof.status_on(rec, s, "2011-08-10", 3)
    assert (cut.state, cut.level, cut.complete) == (st.APPROVED, 1, False)
    assert [p[0] for p in cut.proofs] == [1]
    assert asof.status_on(rec, s, "2011-08-01", 3).state == st.FILED


def test_a_rejection_dated_later_is_not_there_yet():
    rec = record(["2011-08-02", "2011-08-15"], decisions=["approve", "reject"])
    s = st.Status(st.REJECTED, 2, False, True, PROOFS[:2])
    assert asof.status_on(rec, s, "2011-08-10", 3).state == st.APPROVED
    assert asof.status_on(rec, s, "2011-08-15", 3) == s


def test_funded_below_the_city_is_complete_at_its_own_level():
    rec = record(["2011-08-02", "2011-08-12"], paid_on="2011-08-13")
    s = st.Status(st.PAID, 2, True, True, PROOFS[:2])
    assert asof.status_on(rec, s, "2011-08-12", 2) == st.Status(st.APPROVED, 2, True, True)


def test_the_latest_round_is_cut_by_its_own_entries():
    """A second round after an edit: the counted decisions are the second round's (by their place in
    the list), not the first entries of the list."""
    rec = record(["2011-08-02", "2011-08-03"])
    rec["approvals"] += [{"level": 1, "decision": "approve", "date": "2011-08-09"}, {"level": 2, "decision": "approve", "date": "2011-08-11"}]
    s = st.Status(st.APPROVED, 2, False, True, (st.Proof(1, "fp1", "c3", 2, "2011-08-09"), st.Proof(2, "fp2", "c4", 3, "2011-08-11")), 2)
    assert asof.status_on(rec, s, "2011-08-10", 3).level == 1
    assert asof.status_on(rec, s, "2011-08-05", 3).state == st.FILED
