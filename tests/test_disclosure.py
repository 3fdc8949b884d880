"""Statistical disclosure control: small sensitive counts below district level are hidden in every
public table, with complementary suppression so that totals do not give them back."""

import csv
import io
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from jinqiu import cli
from jinqiu.check import validate
from jinqiu.publish import disclosure, pipeline as publish, statistics

DATA = Path(__file__).parent / "site_data" / "data"
SAMPLE = Path(__file__).parent.parent / "data"


def check_invariant(hidden, tables, units, level_of, threshold):
    """No grassroots sensitive count in (0, threshold) is shown; no hidden figure is the only hidden
    one among its siblings under a shown parent; a hidden parent has a hidden child."""
    kids = {}
    for uid in tables:
        kids.setdefault(units[uid].get("parent"), []).append(uid)
    for family in disclosure.FAMILIES:
        for uid, t in tables.items():
            if level_of[uid] == 1:
                for k in family:
                    if k in disclosure.COUNT_KEYS and 0 < t.values[k] < threshold:
                        assert set(family) <= hidden[uid], (uid, k)
        for parent, children in kids.items():
            if parent is None:
                continue
            inside = [c for c in children if family[0] in hidden[c]]
            if family[0] in hidden[parent]:
                assert inside, (parent, family)
            else:
                assert len(inside) != 1, (parent, family, inside)


@pytest.mark.parametrize("root", [DATA, SAMPLE])
def test_suppression_invariant_holds_on_real_data(root):
    dataset, _ = validate.run(root)
    year = max(dataset.campaigns)
    tables = statistics.compute_all(dataset, year, publish.statuses(dataset)[0])
    level_of = {u: {"city": 3, "enterprise": 1, "street": 1}.get(dataset.units[u]["kind"], 2) for u in tables}
    hidden = disclosure.suppress(tables, dataset.units, level_of, 3)
    check_invariant(hidden, tables, dataset.units, level_of, 3)
    assert any(hidden[u] for u in tables if level_of[u] == 1)
    assert not hidden["dl"]  # the city's figures are always shown


class T:
    def __init__(self, uid, **values):
        self.unit_id = uid
        self.values = statistics.empty()
        self.values.update(values)


def test_complementary_suppression_and_a_single_child():
    units = {"c": {}, "d1": {"parent": "c"}, "d2": {"parent": "c"},
             "g1": {"parent": "d1"}, "g2": {"parent": "d1"}, "g3": {"parent": "d1"}, "g4": {"parent": "d2"}}
    level_of = {"c": 3, "d1": 2, "d2": 2, "g1": 1, "g2": 1, "g3": 1, "g4": 1}
    tables = {
        "c": T("c", **{"05A": 16, "05A_amount": Decimal("0.3"), "16A": 9}),
        "d1": T("d1", **{"05A": 11, "16A": 9}), "d2": T("d2", **{"05A": 5}),
        "g1": T("g1", **{"05A": 1, "16A": 4}), "g2": T("g2", **{"05A": 6, "16A": 5}), "g3": T("g3", **{"05A": 4}),
        "g4": T("g4", **{"05A": 5}),
    }
    hidden = disclosure.suppress(tables, units, level_of, 3)
    # g1's 1 is hidden with its amount; d1 minus g2 and g3 would give it back, so the smaller of them
    # (g3, 4) is hidden too; nothing else needs to be
    assert {u for u, keys in hidden.items() if "05A" in keys} == {"g1", "g3"}
    assert "05A_amount" in hidden["g1"]
    assert not any("16A" in keys for keys in hidden.values())
    # d2's only child under the threshold: d2 is the same number, so d2 goes, and then one more district
    tables["g4"].values["05A"] = 2
    tables["d2"].values["05A"] = 2
    hidden = disclosure.suppress(tables, units, level_of, 3)
    assert {u for u, keys in hidden.items() if "05A" in keys} == {"g1", "g3", "g4", "d2", "d1"}
    check_invariant(hidden, tables, units, level_of, 3)
    # the campaign may set another threshold
    assert disclosure.threshold_of({"disclosure_threshold": 5}) == 5 and disclosure.threshold_of({}) == 3


def run(*argv):
    out, err = io.StringIO(), io.StringIO()
    return cli.main([str(a) for a in argv], out, err), out.getvalue(), err.getvalue()


def test_public_downloads_and_pages_hide_small_numbers_private_export_does_not(tmp_path):
    out = tmp_path / "o"
    result = publish.build(publish.Options(data=DATA, out=out, today="2011-08-20", forms=False))
    assert result.ok
    text = (out / "site/downloads/statistics-2011.csv").read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    col = {name: i for i, name in enumerate(rows[0])}
    by_key = {r[0]: r for r in rows[1:] if r[0]}
    grass = col["大连港湾商贸有限公司工会（dl-zs-0001）"]
    assert by_key["05A"][grass] == "*" and by_key["05A_amount"][grass] == "*" and by_key["04B"][grass] == "*"
    assert by_key["03A"][grass] == "2"  # aided children by stage are not sensitive
    assert by_key["05A"][col["大连市总工会（dl）"]] == "2"  # the city is always shown
    assert "不公开" in rows[-1][1]
    wb = openpyxl.load_workbook(out / "site/downloads/statistics-2011.xlsx")
    ws = wb["全部工会"]
    header = [c.value for c in ws[1]]
    sheet = {r[0]: r for r in ws.iter_rows(min_row=2, values_only=True)}
    assert sheet["05A"][header.index("大连港湾商贸有限公司工会")] == "*"
    page = (out / "site/statistics/index.html").read_text(encoding="utf-8")
    assert "不公开" in page and "少于 3 人" in page
    # the unions' own export (not published) has every figure
    code, stdout, stderr = run("export", "--statistics", "--unit", "dl", "--year", "2011", "--data", DATA,
                               "--format", "csv", "--out", tmp_path / "full.csv")
    assert code == 0, stdout + stderr
    full = {r[0]: r for r in csv.reader(io.StringIO((tmp_path / "full.csv").read_text(encoding="utf-8-sig"))) if r and r[0]}
    assert "*" not in {v for r in full.values() for v in r}
    # dl-jx's one grassroots union is its only child: the district's 04 figures are hidden in public
    # too (they equal the factory's), and kept whole in the private export
    assert by_key["04A"][col["大连市机械冶金工会（dl-jx）"]] == "*"
    header = next(csv.reader(io.StringIO((tmp_path / "full.csv").read_text(encoding="utf-8-sig"))))
    assert full["04A"][header.index("大连市机械冶金工会（dl-jx）")] == "1"
