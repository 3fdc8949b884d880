"""The campaign over time, from a real repository's history: facts count from the day they entered
the branch's first-parent history (never before their own date), one pass over history."""

from html import unescape

import pytest

import campaign_repo
from jinqiu.check import validate
from jinqiu.publish import pipeline as publish, site, timeline



@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    """tests/site_data replayed in the campaign (tests/campaign_repo.py)."""
    return campaign_repo.build(tmp_path_factory.mktemp("timeline") / "repo")


def test_counts_follow_the_first_parent_history_and_the_facts_own_dates(repo):
    dataset, problems = validate.run(repo / "data")
    statuses, _ = publish.statuses(dataset)
    groups = site.timeline_groups(dataset.units)
    history = publish.history_of(dataset)
    tls = timeline.build(dataset, 2011, statuses, history, groups, "2011-07-01", "2011-08-31")
    city = tls["dl"]

    def on(key, day):
        return city.counts[key][city.days.index(day)]

    # filed when committed (07-25), and not before the 填表日期 (007 and 008 are dated 07-26, 07-27)
    assert [on("filed", d) for d in ("2011-07-24", "2011-07-25", "2011-07-26", "2011-07-27")] == [0, 6, 7, 8]
    # approvals committed 08-03: level 1 entries dated 08-02 count from 08-03; the city's, dated
    # 08-04, only from 08-04
    assert on("level1", "2011-08-02") == 0 and on("level1", "2011-08-03") > 0
    complete_03, complete_04 = on("complete", "2011-08-03"), on("complete", "2011-08-04")
    assert complete_04 > complete_03
    # the payments' commit claims 07-15 but entered main with the merge of 08-21
    assert on("paid", "2011-08-20") == 0 and on("paid", "2011-08-21") == 5
    # the per-union lines add up to the city's
    unions = [uid for uid in tls if uid != "dl"]
    for key, _ in timeline.SERIES:
        assert [sum(tls[u].counts[key][i] for u in unions) for i in range(len(city.days))] == city.counts[key]
    # the final day agrees with the statuses the site shows
    assert on("paid", "2011-08-31") == sum(1 for r in dataset.applications
                                           if r.data["year"] == 2011 and statuses[r.data["id"]].state == "paid")


def test_entered_maps_merged_commits_to_the_merge(repo):
    dataset, _ = validate.run(repo / "data")
    h = publish.history_of(dataset)
    into = timeline.entered(h)
    merge = h.head
    side = [c for c in h.parents[merge][1:]][0]
    assert into[side] == merge and into[merge] == merge
    assert into[h.parents[merge][0]] == h.parents[merge][0]


def test_built_site_has_the_over_time_chart_with_the_three_deadlines(repo, tmp_path):
    result = publish.build(publish.Options(data=repo / "data", out=tmp_path, today="2011-09-01", forms=False))
    assert result.ok, result.problems
    for page in ("index.html", "statistics/dl-zs.html"):
        html = (tmp_path / "site" / page).read_text(encoding="utf-8")
        chart = html[html.index("jq-timeline"):]
        chart = chart[:chart.index("</details>")]
        # the report and the campaign's end fall on the same day (08-25): one marker, one label
        assert "<polyline" in chart and chart.count('stroke-dasharray="4 3"') == 2, page
        text = unescape(chart)
        for label in ("1：申报材料报市总工会（8月10日）", "2：活动总结和统计表报市总工会、活动结束（8月25日）"):
            assert label in text, (page, label)
        assert ">3</text>" not in chart
        assert "<table>" in chart and '<th scope="col">已发放</th>' in chart
    assert "timeline" in result.timings
