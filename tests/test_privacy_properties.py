"""Property-based tests of the privacy scan (Hypothesis, bounded example counts): the data's own
personal values, rendered the ways a person writes them (every digit form, any punctuation or
spaces between groups, names in pinyin) and put in every file type of the site or in a public field
of the data, are always found, naming the file; and random valid records never trip the scan."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from jinqiu.check import ids, validate
from jinqiu.publish import pipeline as publish, privacy, renderings
from jinqiu.records import yamlwrite
import site_copy
from test_privacy import ANY_PLACES, DATA, plant_anywhere

FAST = settings(max_examples=150, deadline=None, database=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
SLOW = settings(max_examples=3, deadline=None, database=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

# ---------------------------------------------------------------- how a person writes a digit

LOWER = "〇一二三四五六七八九"
UPPER = "零壹贰叁肆伍陆柒捌玖"
DIGIT_FORMS = {
    "ascii": lambda d: d,
    "full-width": lambda d: chr(0xFF10 + int(d)),
    "chinese": lambda d: LOWER[int(d)],
    "financial": lambda d: UPPER[int(d)],
    "arabic-indic": lambda d: chr(0x0660 + int(d)),
    "circled": lambda d: "⓪" if d == "0" else chr(0x2460 + int(d) - 1),
    "mathematical": lambda d: chr(0x1D7CE + int(d)),
}
# Between groups: any run of punctuation or spaces (full-width or not), a line break.
SEPARATOR_RUNS = ["，", "：", "、", "；", " ", "\u3000", "  ", "-", "－", "—", "/", "．", ". ", " - ", "\n", "(", ")",
                  "（", "）", "_", "~", "·", "|", "*", "#", "+", "\t", ", ", "：：", " / ", "**", ""]


@st.composite
def rendered_number(draw, digits: str) -> str:
    """digits (an ID number may end in X) written with random digit forms (两 for a 2 among Chinese
    digits), in random groups of two or more digits joined by random runs of punctuation or spaces,
    one group perhaps emphasised (<em>, as Markdown's *…* is published)."""
    groups, i = [], 0
    while i < len(digits):
        rest = len(digits) - i
        size = rest if rest <= 3 else draw(st.integers(min_value=2, max_value=min(rest - 2, 8)) if rest >= 4 else st.just(rest))
        groups.append(digits[i:i + size])
        i += size
    written = []
    for group in groups:
        form = draw(st.sampled_from(sorted(DIGIT_FORMS)))
        text = "".join(("X" if draw(st.booleans()) else "x") if c in "Xx" else DIGIT_FORMS[form](c) for c in group)
        if form == "chinese" and any(c not in "2Xx" for c in group) and draw(st.booleans()):
            text = text.replace("二", "两")  # where it means 2: in a group with other digits
        written.append(text)
    if len(written) > 2 and draw(st.booleans()):
        k = draw(st.integers(min_value=1, max_value=len(written) - 2))
        written[k] = f"<em>{written[k]}</em>"
    out = [written[0]]
    for text in written[1:]:
        out += [draw(st.sampled_from(SEPARATOR_RUNS)), text]
    return "".join(out)


def pinyin_renderings(name: str) -> list[str]:
    """Ways a Chinese name is written in Latin letters, as a person would (with tones, capitals,
    the surname first or last, the given name joined or not)."""
    from pypinyin import Style, lazy_pinyin

    plain = lazy_pinyin(name, style=Style.NORMAL)
    tones = lazy_pinyin(name, style=Style.TONE)
    out = []
    for syl in (plain, tones):
        if any(not s.isalpha() for s in syl):
            continue
        sur, given = syl[0], syl[1:]
        out += [f"{sur.capitalize()} {''.join(given).capitalize()}", f"{sur.upper()} {''.join(given).capitalize()}",
                f"{''.join(given).capitalize()} {sur.capitalize()}", "".join(syl).lower(),
                f"{sur.capitalize()}, {'-'.join(given).capitalize()}", " ".join(s.capitalize() for s in syl)]
    return out


def chinese_renderings(name: str) -> list[str]:
    return [name, name[0] + " " + name[1:], name[0] + "\u3000" + name[1:], name[0] + "·" + name[1:],
            "\u200b".join(name), name[0] + "・" + name[1:]]


# ---------------------------------------------------------------- the data's values


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("props")
    result = publish.build(publish.Options(data=DATA, out=out, today="2011-08-20", forms=False))
    assert result.ok, (result.problems, result.findings)
    values = privacy.personal_values(validate.load(DATA))
    fixed = privacy.fixed_text((publish.site.TEMPLATES / "site", publish.site.SITE_SRC, publish.site.SITE_THEME))
    scan_values, _ = privacy.scannable(values, fixed)
    pool = {
        "id": sorted(v for v in scan_values if re.fullmatch(r"[0-9]{17}[0-9X]", v)),
        "mobile": sorted(v for v in scan_values if re.fullmatch(r"1[3-9][0-9]{9}", v)),
        "landline": sorted(v for v in scan_values if re.fullmatch(r"0[0-9]{2,3}-[0-9]{7,8}", v)),
        "name": sorted(v for v in scan_values if renderings.latin_forms(v) and len(v) <= 4
                       and not set(renderings.latin_forms(v)) & scan_values.no_latin),
    }
    assert all(pool.values()), {k: len(v) for k, v in pool.items()}
    return result.site_dir, scan_values, pool


@st.composite
def leak(draw, pool):
    """(a personal value of the data, how it is written on the page)."""
    kind = draw(st.sampled_from(sorted(pool)))
    value = draw(st.sampled_from(pool[kind]))
    if kind == "name":
        text = draw(st.sampled_from(pinyin_renderings(value) + chinese_renderings(value)))
    else:
        text = draw(rendered_number(value.replace("-", "")))
    return value, text


@settings(FAST)
@given(data=st.data())
def test_a_rendered_value_in_any_file_type_is_found_naming_the_file(built, tmp_path_factory, data):
    """Any personal value of the data, written in any of the forms, planted in a file of any type of
    the site (HTML, JSON, XML and gzip, .xlsx, CSV, zip in zip, bz2, xz, CSS, JS, source map, SVG,
    text): the scan finds it in that file, and only there."""
    site, values, pool = built
    value, text = data.draw(leak(pool), label="leak")
    place = data.draw(st.sampled_from(ANY_PLACES), label="place")
    copy = tmp_path_factory.mktemp("plant")
    (copy / place).parent.mkdir(parents=True, exist_ok=True)
    if (site / place).exists():
        shutil.copyfile(site / place, copy / place)
    assert privacy.scan(copy, values) == [], place
    plant_anywhere(copy, place, "说明：" + text + "。")
    findings = privacy.scan(copy, values)
    assert findings and {f.path for f in findings} == {str(copy / place)}, (place, value, text, findings)


# ---------------------------------------------------------------- through the build, in a public field

PUBLIC_FIELDS = [  # (file, pointer): every public free-text field a person types
    ("units.yaml", "/units/2/name"),
    ("campaigns/2011.yaml", "/title"), ("campaigns/2011.yaml", "/notice"), ("campaigns/2011.yaml", "/issuer"),
    ("campaigns/2011.yaml", "/receiver"), ("campaigns/2011.yaml", "/notice_text"),
    ("reports/2011/dl-zs.yaml", "/summary"),
    ("applications/2011/dl-zs-0001/2011-dl-zs-0001-001.yaml", "/student/school"),  # on the 公示 list
]


def test_public_fields_are_every_public_free_text_field():
    import test_privacy

    kinds = {"units.yaml": "units", "campaigns/2011.yaml": "campaign", "reports/2011/dl-zs.yaml": "report",
             "applications/2011/dl-zs-0001/2011-dl-zs-0001-001.yaml": "application"}
    listed = {(kinds[f], re.sub(r"/[0-9]+/", "/0/", p)) for f, p in PUBLIC_FIELDS}
    public = {(k, p) for k in set(kinds.values()) for p, node in test_privacy.free_text_fields(k)
              if node.get("x-public") and (k, p) not in test_privacy.REFERENCES}
    assert listed == public


def _set(tree, pointer: str, value: str) -> None:
    *parents, last = pointer.strip("/").split("/")
    for part in parents:
        tree = tree[int(part)] if isinstance(tree, list) else tree[part]
    tree[last] = value


@SLOW
@given(data=st.data())
def test_a_rendered_value_in_a_public_field_fails_the_build_naming_every_file(built, tmp_path_factory, data):
    """A personal value of another record, rendered, typed into a public field: the build fails, and
    every file of the site that shows the field has a finding."""
    _, _, pool = built
    value, text = data.draw(leak(pool), label="leak")
    rel, pointer = data.draw(st.sampled_from(PUBLIC_FIELDS), label="field")
    root = tmp_path_factory.mktemp("field") / "repo"
    site_copy.copy(root)
    from jinqiu.records import layout, yamlstrict

    kind, _ = layout.classify(rel)
    tree, _ = yamlstrict.load((root / "data" / rel).read_bytes(), rel)
    record, problems = yamlstrict.coerce(tree, layout.schema(kind), rel, lambda p: 1)
    assert not problems
    marker = "QZMARKQZ"
    shown = text.replace("<em>", "*").replace("</em>", "*") if pointer == "/notice_text" else text  # Markdown there
    _set(record, pointer, f"{marker}：{shown}。" if pointer != "/notice_text" else f"联系{marker}：{shown}。\n")
    (root / "data" / rel).write_text(yamlwrite.dump(record, kind), encoding="utf-8")
    site_copy.sign_and_commit(root / "data")
    out = root.parent / "out"
    result = publish.build(publish.Options(data=root / "data", out=out, today="2011-08-20", forms=False))
    assert result.site_dir is not None
    texts = {p: privacy.normalize(privacy.read_text(p)) for p in result.site_dir.rglob("*") if p.is_file()}
    shows = {str(p) for p, t in texts.items() if marker in t}
    if not shows:  # a public field no page shows (the receiving office, a report's summary)
        assert result.ok and pointer in ("/receiver", "/summary"), (rel, pointer)
        return
    assert not result.ok
    assert shows <= {f.path for f in result.findings}, (value, text, shows - {f.path for f in result.findings})


# ---------------------------------------------------------------- random valid records


@SLOW
@given(seed=st.integers(min_value=1, max_value=10**6), size=st.integers(min_value=8, max_value=30))
def test_random_valid_records_never_trip_the_scan(tmp_path_factory, seed, size):
    """A generated tree of valid records (names, ID numbers, phones, addresses, schools and unions
    drawn at random; committed, so that verify proves the approvals and the 公示 lists students):
    the build passes, with nothing found."""
    from jinqiu.sample import generate

    root = tmp_path_factory.mktemp("random") / "repo"
    generate.generate(root / "data", seed=seed, applications_per_year=size)
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@jinqiu.invalid", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@jinqiu.invalid", GIT_AUTHOR_DATE="2011-07-01T09:00:00+08:00",
               GIT_COMMITTER_DATE="2011-07-01T09:00:00+08:00")
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["-c", "commit.gpgsign=false", "commit", "-q", "-m", "data"]):
        subprocess.run(["git", "-C", str(root), *args], check=True, env=env, stdout=subprocess.DEVNULL)
    result = publish.build(publish.Options(data=root / "data", out=root.parent / "out", today="2011-08-20", forms=False))
    assert result.findings == [], [f.text() for f in result.findings]
    assert result.ok, [p.text() for p in result.problems if p.severity == "error"][:5]


@settings(FAST)
@given(number=st.text(alphabet="0123456789", min_size=17, max_size=17), data=st.data())
def test_an_id_number_not_in_the_data_is_found_by_its_shape_however_written(number, data):
    """A valid ID number that is in no record, written in Chinese or full-width digits, grouped 6-8-4
    with any punctuation between the groups: found by its shape alone."""
    birth = data.draw(st.dates(min_value=__import__("datetime").date(1930, 1, 1),
                               max_value=__import__("datetime").date(2010, 12, 31)))
    first = number[:6] + birth.strftime("%Y%m%d") + number[14:17]
    value = first + ids.check_digit(first)
    form = data.draw(st.sampled_from(sorted(DIGIT_FORMS)))
    sep = data.draw(st.sampled_from(SEPARATOR_RUNS[:-3]))
    groups = [value[:6], value[6:14], value[14:]]
    text = sep.join("".join(DIGIT_FORMS[form](c) if c.isdigit() else c for c in g) for g in groups)
    found = privacy.scan_text(privacy.normalize(f"<p>见{text}号</p>"), privacy.Needles(set()))
    assert [w for _, w in found] == ["有效的身份证号码"], (text, found)
