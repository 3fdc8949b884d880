"""The scanner catches personal data wherever and however it is hidden in the built site."""

import html
import gzip
import json
import shutil
import urllib.parse
from pathlib import Path

import pytest

from jinqiu import ids, privacy, publish, validate

DATA = Path(__file__).parent / "site_data" / "data"

# A fake person who is in the data (tests/site_data, application 001).
NAME, STUDENT = "王建国", "王小雨"
ID_NUMBER = "210202196601101019"
PHONE = "13941120000"
ADDRESS = "大连市中山区人民路10号1单元"
# Not in the data at all: caught by their shape (a valid check digit, a phone number).
OTHER_ID = "11010519491231002" + ids.check_digit("11010519491231002")
OTHER_PHONE = "18612345678"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("privacy")
    result = publish.build(publish.Options(data=DATA, out=out, today="2011-08-20", forms=False))
    assert result.ok, (result.problems, result.findings)
    dataset = validate.load(DATA)
    return result.site_dir, privacy.personal_values(dataset)


def test_real_build_is_clean(built):
    site, values = built
    assert privacy.scan(site, values) == []
    assert {NAME, STUDENT, ID_NUMBER, PHONE, ADDRESS} <= values


def test_public_notice_shows_only_masked_names(built):
    site, _ = built
    text = html.unescape((site / "notice.html").read_text(encoding="utf-8"))
    assert "王*雨" in text and STUDENT not in text


def fullwidth(s):
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in s)


def zero_width(s):
    return "\u200b".join(s)


def entities(s):
    return "".join(f"&#{ord(c)};" for c in s)


def u_escapes(s):
    return "".join(f"\\u{ord(c):04x}" for c in s)


# (file, how the value is written into it)
PLACES = {
    "index.html": lambda v: f"<p>{v}</p>",
    "entities.html": lambda v: f"<p>{entities(v)}</p>",
    "assets/javascripts/bundle.canary.js": lambda v: f'var x="{u_escapes(v)}";',
    "search/search_index.json": None,  # a JSON string with zero-width spaces between the characters
    "sitemap.xml.gz": None,  # compressed
    "url.html": lambda v: f'<a href="/q?{urllib.parse.quote(v)}">x</a>',
    "fullwidth.html": lambda v: f"<td>{fullwidth(v)}</td>",
    "zw.html": lambda v: f"<td>{zero_width(v)}</td>",
}


def plant(site: Path, place: str, value: str) -> None:
    path = site / place
    path.parent.mkdir(parents=True, exist_ok=True)
    if place == "search/search_index.json":
        index = json.loads(path.read_text(encoding="utf-8"))
        index["docs"][0]["text"] += zero_width(value)
        path.write_text(json.dumps(index, ensure_ascii=True), encoding="utf-8")
    elif place == "sitemap.xml.gz":
        xml = gzip.decompress(path.read_bytes()).decode() + f"<!-- {value} -->"
        path.write_bytes(gzip.compress(xml.encode()))
    else:
        with path.open("a", encoding="utf-8") as f:
            f.write(PLACES[place](value))


@pytest.mark.parametrize("place", list(PLACES))
@pytest.mark.parametrize("value", [NAME, STUDENT, ID_NUMBER, PHONE, ADDRESS, OTHER_ID, OTHER_PHONE])
def test_each_planted_canary_is_caught(built, tmp_path, place, value):
    site, values = built
    copy = tmp_path / "site"  # the one real file (or a new one) at its place in the site
    (copy / place).parent.mkdir(parents=True)
    if (site / place).exists():
        shutil.copyfile(site / place, copy / place)
    assert privacy.scan(copy, values) == []
    plant(copy, place, value)
    findings = privacy.scan(copy, values)
    assert findings and {f.path for f in findings} == {str(copy / place)}, findings


def test_build_fails_when_personal_data_reaches_the_site(tmp_path, monkeypatch):
    from jinqiu import site as site_module

    real = site_module.write_pages

    def leaky(view, docs):
        written = real(view, docs)
        (docs / "apply.md").write_text("# 泄露\n\n" + ADDRESS + "\n", encoding="utf-8")
        return written

    monkeypatch.setattr(site_module, "write_pages", leaky)
    result = publish.build(publish.Options(data=DATA, out=tmp_path, today="2011-08-20", forms=False))
    assert not result.ok
    assert any(f.path.endswith("apply.html") for f in result.findings)
    assert result.forms == []


def test_projection_keeps_only_public_fields():
    dataset = validate.load(DATA)
    rec = dataset.applications[0]
    public = privacy.project("application", rec.data)
    assert "worker" not in public and "flags" not in public and "note" not in public
    assert set(public["student"]) == {"school", "education", "admission_year"}
    assert all(set(a) <= {"level", "decision", "date"} for a in public["approvals"])
    report = privacy.project("report", next(r for r in dataset.reports if r.data["unit"] == "dl-zs").data)
    assert "filled_by" not in report and "phone" not in report and report["typed_statistics"]


def test_normalize_undoes_each_hiding():
    for hide in (fullwidth, zero_width, entities, u_escapes, urllib.parse.quote):
        assert privacy.normalize(hide(ID_NUMBER)) == ID_NUMBER
        assert privacy.normalize(hide(NAME)) == NAME


def test_personal_values_plan_reads_what_the_schema_walk_reads():
    """personal_values follows a plan compiled from the schemas; it must find exactly what walking
    every record along its schema (_collect) finds, on the shipped sample and the test data."""
    for root in (DATA, Path(__file__).parent.parent / "data"):
        dataset = validate.load(root)
        walked = set()
        for rec in dataset.records:
            if rec.data is not None and rec.kind in privacy.layout.KINDS:
                schema = privacy._schema(rec.kind)
                privacy._collect(rec.data, schema, schema, walked, False)
        assert privacy.personal_values(dataset) == {privacy.normalize(v) for v in walked if len(v) >= 2}


def test_needles_report_the_longest_value_at_the_first_place():
    needles = privacy.Needles({"王建", "王建国", "人民路10号", "13941120000"})
    assert needles.find("甲乙王建国丙") == (2, "王建国")
    assert needles.find("住人民路10号，王建") == (1, "人民路10号")
    assert needles.find("电话 1394112-0000") == (3, "1394112-0000")
    assert needles.find("王小雨 王 建") is None


def test_a_name_inside_the_sites_own_text_is_not_a_leak(tmp_path):
    """A child called 余天 is inside 剩余天数 on every home page: it is set aside (and said), not a finding;
    every other value is still looked for."""
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    path = next((data / "applications" / "2011").rglob("*.yaml"))
    text = path.read_text(encoding="utf-8")
    student = next(line.split(":", 1)[1].strip() for line in text.split("student:", 1)[1].splitlines() if "name:" in line)
    path.write_text(text.replace(f"name: {student}", "name: 余天", 1), encoding="utf-8")
    result = publish.build(publish.Options(data=data, out=tmp_path / "out", today="2011-08-20", forms=False))
    assert result.findings == []
    assert "余天" in result.unscannable
    assert NAME not in result.unscannable and ADDRESS not in result.unscannable
    # the scan itself still finds 余天 where it is not part of the fixed text
    leak = tmp_path / "leak"
    leak.mkdir()
    (leak / "page.html").write_text("<p>受助学生：余天</p>", encoding="utf-8")
    assert privacy.scan(leak, {"余天"})
