"""The scanner catches personal data wherever and however it is hidden in the built site."""

import bz2
import html
import gzip
import io
import json
import lzma
import shutil
import urllib.parse
from pathlib import Path

import pytest

from jinqiu.check import ids, validate
from jinqiu.publish import pipeline as publish, privacy

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
    from jinqiu.publish import site as site_module

    real = site_module.write_pages

    def leaky(view, docs, **kw):
        written = real(view, docs, **kw)
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
    assert needles.find("电话 1394112-0000") == (3, "13941120000")
    assert needles.find("王小雨 王 建") == (4, "王建")  # written with a space, still the name
    assert needles.find("王小雨 王 小") is None


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


# ---------------------------------------------------------------- separators, archives, every file type


def grouped(value: str, sep: str) -> str:
    """A value written the way people space it: 210202 19680408 0502, 151 4847 1100, 任 芳琴."""
    if value.isdigit() or value[:-1].isdigit():
        groups = (6, 8, 4) if len(value) == 18 else (3, 4, 4)
        out, i = [], 0
        for n in groups:
            out.append(value[i:i + n])
            i += n
        return sep.join(out)
    if len(value) <= 4:  # a name: surname, then the given name
        return value[0] + sep + value[1:]
    return sep.join(value[i:i + 3] for i in range(0, len(value), 3))


SEPARATOR_STYLES = {
    "space": " ", "two spaces": "  ", "hyphen": "-", "dot": ".", "middle dot": "·", "full-width space": "\u3000",
    "full-width hyphen": "\uff0d", "no-break space": "\u00a0", "tab": "\t", "newline": "\n", "en dash": "\u2013",
    "space hyphen space": " - ", "underscore": "_", "slash": "/", "zero-width joiner": "\u200d",
    "left-to-right mark": "\u200e", "right-to-left override": "\u202e", "word joiner": "\u2060",
}


def plant_anywhere(site: Path, place: str, text: str) -> None:
    """Write text into a file of each type the site holds, the way that type holds text."""
    import zipfile

    path = site / place
    path.parent.mkdir(parents=True, exist_ok=True)
    if place.endswith(".xlsx"):
        import openpyxl

        wb = openpyxl.load_workbook(path)
        wb.worksheets[-1].append(["备注", text])
        wb.save(path)
    elif place.endswith(".zip"):
        inner = io.BytesIO()
        with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("deep/page.html", f"<p>{text}</p>")
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("readme.txt", "nothing here")
            z.writestr("nested.zip", inner.getvalue())
            z.writestr("table.csv.gz", gzip.compress(f"a,b\n1,{text}\n".encode("utf-8")))
    elif place.endswith(".gz"):
        body = gzip.decompress(path.read_bytes()).decode() if path.exists() else ""
        path.write_bytes(gzip.compress((body + f"<!-- {text} -->").encode()))
    elif place.endswith(".bz2"):
        path.write_bytes(bz2.compress(f"log: {text}".encode()))
    elif place.endswith(".xz"):
        path.write_bytes(lzma.compress(json.dumps({"k": text}).encode()))
    elif place.endswith(".json"):
        index = json.loads(path.read_text(encoding="utf-8"))
        index["docs"][0]["text"] += text
        path.write_text(json.dumps(index, ensure_ascii=True), encoding="utf-8")
    elif place.endswith(".csv"):
        with path.open("a", encoding="utf-8") as f:
            f.write(f"01X,备注,{text}\r\n")
    elif place.endswith(".svg"):
        path.write_text(f'<svg xmlns="http://www.w3.org/2000/svg"><text>{text}</text></svg>', encoding="utf-8")
    else:
        with path.open("a", encoding="utf-8") as f:
            f.write(f"/* {text} */" if place.endswith((".css", ".js", ".map")) else f"<p>{text}</p>")


ANY_PLACES = [
    "index.html", "search/search_index.json", "sitemap.xml", "sitemap.xml.gz", "downloads/statistics-2011.xlsx",
    "downloads/statistics-2011.csv", "downloads/archive.zip", "logs/build.txt.bz2", "data/extra.json.xz",
    "assets/stylesheets/extra.css", "assets/javascripts/extra.js", "assets/javascripts/bundle.js.map",
    "assets/images/chart.svg", "robots.txt",
]


def test_the_places_cover_every_file_type_the_site_holds(built):
    site, _ = built
    types = {p.suffix for p in site.rglob("*") if p.is_file()} - {".png"}  # images hold no text
    assert types <= {Path(p).suffix for p in ANY_PLACES}, types


@pytest.mark.parametrize("style", list(SEPARATOR_STYLES))
@pytest.mark.parametrize("value", [ID_NUMBER, PHONE, STUDENT, ADDRESS, OTHER_ID, OTHER_PHONE])
def test_a_value_written_with_separators_is_caught_in_every_file_type(built, tmp_path, style, value):
    site, values = built
    text = grouped(value, SEPARATOR_STYLES[style])
    assert text != value
    for place in ANY_PLACES:
        copy = tmp_path / place.replace("/", "_")
        (copy / place).parent.mkdir(parents=True)
        if (site / place).exists():
            shutil.copyfile(site / place, copy / place)
        assert privacy.scan(copy, values) == [], place
        plant_anywhere(copy, place, text)
        findings = privacy.scan(copy, values)
        assert findings and {f.path for f in findings} == {str(copy / place)}, (place, text, findings)


def test_a_value_planted_in_campaign_or_union_text_is_found_not_set_aside(tmp_path):
    """The campaign's notice and a union's name are data: a person's name in them is a leak, never
    "the site's fixed wording"."""
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    campaign = data / "campaigns" / "2011.yaml"
    campaign.write_text(campaign.read_text(encoding="utf-8").replace(
        "notice: 大工办发[2011]25号", f"notice: 大工办发[2011]25号，联系人{NAME}"), encoding="utf-8")
    units = data / "units.yaml"
    units.write_text(units.read_text(encoding="utf-8").replace("name: 大连市西岗区总工会", f"name: 大连市西岗区总工会{STUDENT}"),
                     encoding="utf-8")
    result = publish.build(publish.Options(data=data, out=tmp_path / "out", today="2011-08-20", forms=False))
    assert not result.ok and result.findings
    assert NAME not in result.unscannable and STUDENT not in result.unscannable
    hits = set()
    for f in result.findings:
        text = privacy.normalize(privacy.read_text(Path(f.path)))
        for v in (NAME, STUDENT):
            if privacy.Needles({v}).find(text):
                hits.add(v)
    assert hits == {NAME, STUDENT}


# ---------------------------------------------------------------- a canary in every free-text field

# Fields that name another record (a wrong value only makes the record invalid) or carry key material.
REFERENCES = {
    ("units", "/units/0/parent"), ("reviewers", "/reviewers/0/unit"), ("application", "/unit"),
    ("application", "/continues"), ("application", "/aid/funding_unit"), ("application", "/approvals/0/reviewer"),
    ("application", "/approvals/0/signature"), ("reviewers", "/reviewers/0/keys/0/public_key"),
    ("reviewers", "/reviewers/0/keys/0/fingerprint"), ("application", "/approvals/0/forge/url"),
    ("application", "/approvals/0/forge/login"), ("graduate", "/unit"), ("report", "/unit"),
}
TARGETS = {  # the record of each kind that gets the canaries (a published one where there is a choice)
    "units": "units.yaml", "reviewers": "reviewers.yaml", "campaign": "campaigns/2011.yaml",
    "application": "applications/2011/dl-zs-0002/2011-dl-zs-0002-004.yaml",
    "graduate": "graduates/2011/dl-zs-0001/2011-dl-zs-0001-g001.yaml", "report": "reports/2011/dl-zs.yaml",
}


def free_text_fields(kind: str) -> list[tuple[str, dict]]:
    """(pointer, schema node) of every string field of a kind that is not an enum, pattern, format
    or constant: where a person can type anything (list items as /0)."""
    root = privacy._schema(kind)
    out = []

    def walk(node, pointer):
        node = privacy._resolve(node, root)
        for key, sub in node.get("properties", {}).items():
            walk(sub, f"{pointer}/{key}")
        if isinstance(node.get("items"), dict):
            walk(node["items"], f"{pointer}/0")
        if node.get("type") == "string" and not any(k in node for k in ("enum", "pattern", "format", "const")):
            out.append((pointer, node))

    walk(root, "")
    return out


def set_pointer(data, pointer: str, value) -> bool:
    parts = pointer.strip("/").split("/")
    node = data
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(node, list):
            if not node:
                return False
            if last:
                node[0] = value
                return True
            node = node[0]
        elif last:
            node[part] = value
            return True
        else:
            if not isinstance(node.get(part), (dict, list)):
                return False
            node = node[part]
    return False


def marker(k: int) -> str:
    return f"QZ{chr(65 + k // 26)}{chr(65 + k % 26)}QZ"


def test_a_canary_in_every_free_text_field_of_every_kind_is_found_wherever_it_is_published(tmp_path):
    """Every free-text field of every kind of record gets a personal value of someone else in the data
    (in turn a name, an address, an ID number and a phone, each written in another separator style),
    behind a marker. Wherever a marker shows up in the built site, the scanner finds its value there."""
    from jinqiu.records import yamlwrite

    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    original = validate.load(data)
    targets = {rel: r for r in original.records if (rel := r.rel) in TARGETS.values()}
    assert len(targets) == len(TARGETS)
    others = validate.load(data)
    others.records = [r for r in others.records if r.rel not in TARGETS.values()]
    pool = sorted(privacy.personal_values(others))
    fixed = privacy.fixed_text((publish.site.TEMPLATES / "site", publish.site.SITE_SRC, publish.site.SITE_THEME))
    pool, _ = privacy.scannable(pool, fixed)
    by_kind = {
        "name": sorted(v for v in pool if not v[0].isdigit() and len(v) <= 4),
        "address": sorted(v for v in pool if not v[0].isdigit() and len(v) > 6),
        "id": sorted(v for v in pool if len(v) == 18 and v[:17].isdigit()),
        "phone": sorted(v for v in pool if v.isdigit() and len(v) == 11),
    }
    assert all(len(vs) >= 4 for vs in by_kind.values()), by_kind
    styles = list(SEPARATOR_STYLES.values())
    planted = []  # (k, kind, pointer, value, text)
    used: dict = {c: 0 for c in by_kind}
    k = 0
    for kind, rel in TARGETS.items():
        record = targets[rel]
        for pointer, node in free_text_fields(kind):
            if (kind, pointer) in REFERENCES:
                continue
            if pointer.endswith(("phone", "id_numbers/0")):
                category = "phone" if pointer.endswith("phone") else "id"
                value = by_kind[category][used[category] % len(by_kind[category])]
                text = value  # a phone or ID field is checked by its shape: the plain value
            else:
                category = "name" if node.get("maxLength", 99) <= 20 else ("name", "address", "id", "phone")[k % 4]
                value = by_kind[category][used[category] % len(by_kind[category])]
                text = marker(k) + grouped(value, styles[k % len(styles)])
            used[category] += 1
            if set_pointer(record.data, pointer, text):
                planted.append((k, kind, pointer, value, text))
                k += 1
        (data / rel).write_text(yamlwrite.dump(record.data, kind), encoding="utf-8")
    assert {kind for _, kind, *_ in planted} == set(TARGETS)
    assert len(planted) >= 25

    result = publish.build(publish.Options(data=data, out=tmp_path / "out", today="2011-08-20", forms=False,
                                           allow_invalid=True))
    assert result.site_dir is not None and (result.site_dir / "index.html").exists()
    texts = {p: privacy.normalize(privacy.read_text(p)) for p in result.site_dir.rglob("*") if p.is_file()}
    reached, missed = [], []
    for k, kind, pointer, value, text in planted:
        tag = marker(k) if text != value else value
        places = [p for p, t in texts.items() if tag in t]
        if places:
            reached.append((kind, pointer))
            needles = privacy.Needles({value})
            for p in places:
                if not needles.find(texts[p]):
                    missed.append((kind, pointer, text, str(p.relative_to(result.site_dir))))
    assert missed == []
    assert {("campaign", "/notice"), ("campaign", "/title"), ("units", "/units/0/name")} <= set(reached), reached
    assert result.findings and not result.ok
    found_in = {f.path for f in result.findings}
    assert all(str(p) in found_in for k, *_ in planted for p, t in texts.items() if marker(k) in t)


# ---------------------------------------------------------------- numbers and names as people write them


def _build_with(tmp_path, rel: str, old: str, new: str, signed: bool):
    import site_copy

    data = site_copy.copy(tmp_path / "repo")
    path = data / rel
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    if signed:
        site_copy.sign_and_commit(data)
    result = publish.build(publish.Options(data=data, out=tmp_path / "out", today="2011-08-20", forms=False))
    found = {str(Path(f.path).relative_to(result.site_dir)) for f in result.findings}
    return result, found


def test_a_phone_and_an_id_number_in_chinese_numerals_in_the_notice_fail_the_build(tmp_path):
    """The issue's attack: a phone and an ID number written 〇四一一八五八九四四三八 /
    二一〇二八一一九六九〇五二六二八八八 in the school of a student on the 公示 list (not in this data:
    found by their shape): the build fails, naming the notice page and the search index."""
    leak = "〇四一一八五八九四四三八 / 二一〇二八一一九六九〇五二六二八八八"
    result, found = _build_with(tmp_path, "applications/2011/dl-zs-0001/2011-dl-zs-0001-001.yaml",
                                "school: 大连理工大学", f"school: 大连理工大学（{leak}）", signed=True)
    assert result.statuses["2011-dl-zs-0001-001"].complete  # on the 公示 list
    assert not result.ok and {"notice.html", "search/search_index.json"} <= found, found
    assert {f.what for f in result.findings} >= {"有效的身份证号码", "电话号码"}


@pytest.mark.parametrize("leak, what", [
    ("0411，85894438；210281：19690526：2888", {"有效的身份证号码", "电话号码"}),  # the issue's: not in this data
    ("贰壹零贰零贰，壹玖陆陆零壹壹零，壹零壹玖", {"有效的身份证号码", "数据中的个人信息（姓名、身份证号码、电话或住址）"}),  # 王建国's
    ("〇四一一－八二六五　一二三四", {"电话号码", "数据中的个人信息（姓名、身份证号码、电话或住址）"}),  # 孙立新's, a report's
    ("一三九四一一两〇〇〇〇", {"电话号码", "数据中的个人信息（姓名、身份证号码、电话或住址）"}),  # 王建国's mobile, 两 for 2
    ("Wang Jianguo", {"数据中的姓名（拼音）"}),  # 王建国 in pinyin
    ("WANG, Xiao-yu", {"数据中的姓名（拼音）"}),  # 王小雨
], ids=["issue-punctuation", "financial-id", "chinese-landline", "liang-mobile", "pinyin", "pinyin-reversed-comma"])
def test_a_value_in_a_public_field_as_people_write_it_fails_the_build(tmp_path, leak, what):
    """A union's name (a public field, on every statistics page and download) holding a phone, an ID
    number or a name as a person writes it: the build fails, naming every file that shows it."""
    result, found = _build_with(tmp_path, "units.yaml", "name: 大连市西岗区总工会",
                                "name: " + json.dumps(f"大连市西岗区总工会（{leak}）", ensure_ascii=False), signed=False)
    assert not result.ok
    shows = {str(p.relative_to(result.site_dir)) for p in result.site_dir.rglob("*") if p.is_file()
             and privacy.normalize("西岗区总工会（") in privacy.normalize(privacy.read_text(p))}
    assert {"progress.html", "statistics/dl-xg.html", "downloads/statistics-2011.csv", "search/search_index.json"} <= shows
    assert shows <= found, shows - found
    assert {f.what for f in result.findings} >= what


def test_names_are_spelt_as_pypinyin_reads_them():
    """The scan reads pypinyin's own table of readings (its data file, without loading the phrase
    dictionary): every character of the basic CJK block reads as pypinyin's Style.NORMAL reads it
    (pypinyin's ê, which is not a Latin letter a page would carry, aside)."""
    from pypinyin import Style, pinyin

    from jinqiu.publish import renderings

    differ = []
    for cp in range(0x4E00, 0x9FA6):
        ch = chr(cp)
        ours = [spellings[0] for spellings in renderings._readings(ch)]
        theirs = [r for r in dict.fromkeys(pinyin(ch, style=Style.NORMAL, heteronym=True)[0]) if r.isascii() and r.isalpha()]
        if ours != theirs and [r for r in ours if r != "e"] != theirs:
            differ.append((ch, ours, theirs))
    assert differ == []
    assert renderings.latin_forms("单乐") >= {"shanle", "lechan", "danle"}
    assert renderings.latin_forms("吕芳") >= {"lvfang", "lufang", "lyufang", "fanglv"}
    assert renderings.latin_forms("欧阳小明") == {"ouyangxiaoming", "xiaomingouyang"}
    assert renderings.latin_forms("阿依古丽·买买提") == {"ayigulimaimaiti", "maimaitiayiguli"}
    assert renderings.latin_forms("王") == frozenset() and renderings.latin_forms("John Smith") == frozenset()
