"""approve and todo read only what they decide on (the named records, or one year's applications of
a reviewer's unions, with what their statuses rest on: the records they continue and the holders of
a foreign digest), and decide exactly what they decide reading everything."""

from __future__ import annotations

import re

import pytest

from jinqiu.check import validate
from jinqiu.check.unitref import descendants
from jinqiu.sample import demo
from jinqiu.trust import approve, verify


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    lab = demo.Lab(tmp_path_factory.mktemp("city"))
    demo.sample_city(lab, 6)
    return lab


def plan_rows(plan):
    return ([r.rel for r in plan.take], [(r.rel, why) for r, why in plan.skip], plan.waiting, plan.done)


def test_a_reviewers_queue_from_its_unions_is_the_queue_from_everything(city):
    full = validate.load(city.data, "data")
    full_statuses, _ = verify.run(None, city.data, display_root="data", dataset=full, use_cache=False)
    year = approve.current_year(full)
    for rid in ("r-dl-zs-0001", "r-dl-zs", "r-dl-01"):
        reviewer = full.reviewers[rid]
        part = approve.load_units(city.data, "data", descendants(full.units, reviewer["unit"]), year)
        statuses, _ = verify.statuses_of(city.data, part)
        assert plan_rows(approve.pending_for(part, reviewer, None, statuses)) == \
            plan_rows(approve.pending_for(full, reviewer, None, full_statuses)), rid
        for r in part.applications:
            assert statuses[r.rel] == full_statuses[r.rel], (rid, r.rel)
        if reviewer["level"] < 3:
            assert len(part.applications) < len(full.applications) // 3, rid  # only what it decides on
    continuing = [r for r in full.applications if r.data.get("form") == "continuing" and r.data.get("year") == year]
    assert continuing, "the sample has continuing students, whose status rests on an earlier year's record"


def test_approving_named_files_reads_those_and_tells_a_copied_approval_as_reading_everything(city, tmp_path):
    data = city.data
    full = validate.load(data, "data")
    apps = sorted((r for r in full.applications if r.data.get("year") == 2011 and not r.data.get("approvals")),
                  key=lambda r: r.rel)
    target, other = apps[0], [r for r in full.applications if r.data.get("approvals")][0]
    copied = re.search(r"(?ms)^approvals:\n(- level: 1\n.*?)(?=^- level|\Z)", (data / other.rel).read_text(encoding="utf-8")).group(1)
    path = data / target.rel
    original = path.read_text(encoding="utf-8")
    try:
        path.write_text(original.replace("approvals: []\n", "approvals:\n" + copied), encoding="utf-8")
        full = validate.load(data, "data")
        named = approve.load_named(data, "data", [target.rel])
        assert other.rel in {r.rel for r in named.applications}  # the holder of the copied digest
        assert len(named.applications) < 10
        records = lambda ds: [r for r in ds.applications if r.rel == target.rel]  # noqa: E731
        unit = target.data["unit"]
        rid = f"r-{unit}"
        signing = approve.Signing("ssh", str(city.keys / rid), city.fingerprint(rid))
        env = city.signing_env(rid, "2011-08-16")
        outcomes = [approve.preview(city.repo, data, records(ds), opinion="同意", today=demo._date("2011-08-16"),
                                    signing=signing, dataset=ds, env=env) for ds in (full, named)]
        assert [(r.rel, why) for r, why in outcomes[0].refused] == [(r.rel, why) for r, why in outcomes[1].refused]
        assert [r.rel for r in outcomes[0].approved] == [r.rel for r in outcomes[1].approved]
    finally:
        path.write_text(original, encoding="utf-8")
