"""The sample data generator: deterministic, valid, consistent, fast enough."""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
import time
from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

from jinqiu.check import ids
from jinqiu.records import layout, yamlwrite
from jinqiu.sample import generate as sample

REPO = Path(__file__).resolve().parent.parent
Loader = getattr(yaml, "CBaseLoader", yaml.BaseLoader)


# -- reading back -------------------------------------------------------------------------------

def typed(value, node: dict, root: dict):
    """Strings from a YAML BaseLoader turned into the JSON types the schema gives them."""
    node = layout._resolve(node, root) if node else {}
    t = node.get("type")
    if isinstance(value, dict):
        props = node.get("properties", {})
        extra = node.get("additionalProperties") if isinstance(node.get("additionalProperties"), dict) else {}
        return {k: typed(v, props.get(k, extra), root) for k, v in value.items()}
    if isinstance(value, list):
        return [typed(v, node.get("items", {}), root) for v in value]
    if t == "integer":
        return int(value)
    if t == "number":
        return Decimal(value)
    if t == "boolean":
        return {"true": True, "false": False}.get(value, value)
    return value


def read(path: Path, kind: str) -> dict:
    root = layout.schema(kind)
    return typed(yaml.load(path.read_text(encoding="utf-8"), Loader=Loader), root, root)


def load_tree(out: Path) -> dict:
    tree = {"files": {}, "application": {}, "graduate": {}, "report": {}, "campaign": {}}
    for path in sorted(out.rglob("*.yaml")):
        rel = path.relative_to(out).as_posix()
        kind, m = layout.classify(rel)
        assert kind, f"unexpected file {rel}"
        rec = read(path, kind)
        tree["files"][rel] = (kind, rec, m)
        if kind in ("units", "reviewers"):
            tree[kind] = rec[kind]
        elif kind == "report":
            tree["report"][(rec["year"], rec["unit"])] = rec
        elif kind == "campaign":
            tree["campaign"][rec["year"]] = rec
        else:
            tree[kind][rec["id"]] = rec
    return tree


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("sample") / "data"
    return out, sample.generate(out)


@pytest.fixture(scope="module")
def default_dir(default_run) -> Path:
    return default_run[0]


@pytest.fixture(scope="module")
def tree(default_dir) -> dict:
    return load_tree(default_dir)


@pytest.fixture(scope="module")
def scaled(tmp_path_factory):
    out = tmp_path_factory.mktemp("scaled") / "data"
    started, cpu = time.perf_counter(), time.process_time()
    counts = sample.generate(out, applications_per_year=1000, seed=7)
    elapsed = (time.perf_counter() - started, time.process_time() - cpu)
    return out, counts, elapsed, load_tree(out)


def files_bytes(out: Path) -> dict:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


# -- determinism and shipping -------------------------------------------------------------------

def test_same_seed_same_bytes(default_dir, tmp_path):
    again = tmp_path / "again"
    sample.generate(again)
    assert files_bytes(again) == files_bytes(default_dir)


def test_other_seed_other_data(default_dir, tmp_path):
    other = tmp_path / "other"
    sample.generate(other, seed=1)
    assert files_bytes(other)["reviewers.yaml"] != files_bytes(default_dir)["reviewers.yaml"]


def test_shipped_sample_is_current(default_dir):
    shipped = REPO / "data"
    if not (shipped / "units.yaml").exists():
        pytest.skip("no shipped sample in data/")
    generated = {k: v for k, v in files_bytes(shipped).items()
                 if layout.classify(k)[0] is not None or k == "root-of-trust.txt"}
    assert generated == files_bytes(default_dir), "data/ is stale: run python -m jinqiu.sample data"


def test_counts_match_files(default_run, tree):
    counts = Counter(kind for kind, _, _ in tree["files"].values())
    assert dict(counts) == default_run[1]


def test_headers_say_synthetic(default_dir):
    for name in ("units.yaml", "reviewers.yaml"):
        head = (default_dir / name).read_text(encoding="utf-8").split("\n", 5)[:5]
        assert any("示例数据，人物均为虚构" in line for line in head), name
    assert "TEST KEYS" in (default_dir / "reviewers.yaml").read_text(encoding="utf-8")[:600]


def test_refuses_to_overwrite_other_data(tmp_path):
    real = tmp_path / "real"
    (real / "applications").mkdir(parents=True)
    with pytest.raises(FileExistsError):
        sample.generate(real)
    assert sample.main([str(real)]) == 2


def test_regenerates_over_a_previous_sample(tmp_path):
    out = tmp_path / "s"
    sample.generate(out, applications_per_year=200)
    stale = out / "applications" / "2011" / "dl-zs-0001" / "2011-dl-zs-0001-999.yaml"
    stale.write_text("id: stale\n", encoding="utf-8")
    assert sample.main([str(out), "--applications", "30", "--seed", "5"]) == 0
    assert not stale.exists()
    assert 80 <= len(list((out / "applications").rglob("*.yaml"))) <= 100


# -- schemas and canonical form -----------------------------------------------------------------

def test_every_record_validates(tree):
    validators = {kind: Draft202012Validator(layout.schema(kind), format_checker=Draft202012Validator.FORMAT_CHECKER)
                  for kind in layout.KINDS}
    problems = []
    for rel, (kind, rec, m) in tree["files"].items():
        for error in validators[kind].iter_errors(rec):
            problems.append(f"{rel}: {error.json_path}: {error.message}")
        if kind in ("application", "graduate"):
            assert rec["id"] == m["id"] and rec["unit"] == m["unit"] and str(rec["year"]) == m["year"], rel
        if kind in ("report", "campaign"):
            assert str(rec["year"]) == m["year"], rel
    assert not problems, "\n".join(problems[:20])


def test_files_are_canonical_yamlwrite_output(default_dir, tree):
    """The fast emitter writes exactly what yamlwrite.dump would."""
    for rel, (kind, rec, _) in tree["files"].items():
        text = (default_dir / rel).read_text(encoding="utf-8")
        if kind in ("units", "reviewers"):
            text = "".join(line for line in text.splitlines(keepends=True) if not line.startswith("#"))
        assert yamlwrite.dump(rec, kind) == text, rel


@pytest.mark.parametrize("value", [
    "王伟", "0411-84123456", "13812345678", "2011-08-01", "21020219660101001X", "yes", "No", "null", "~",
    "true", "12", "1.5", "1e3", "a: b", "a #b", "-x", "- x", "#x", "x y", " lead", "trail ", "@at", "'q'",
    '"dq"', "a\nb", "本人患病，长期治疗", "（测试）", "x:y", "r-dl-zs-0001", "3-2-1", "", "0x1F", ":x",
    "ssh-ed25519 AAAA jinqiu-TEST-KEY-r-dl", "SHA256:ab+/c", "自主创业：网店", "!tag", "%x", "&a", "*a",
    "2011-dl-zs-0001-001", "=", "<<", ".5", "1_000", "+1", "0o17", "1:20", ".inf", "Off",
])
def test_fast_dump_matches_yamlwrite(value):
    rec = {"id": "x", "flags": {"in_archive": False}, "documents": {},
           "aid": {"funding_unit": value, "amount": Decimal("12.50")}, "note": value,
           "approvals": [{"level": 1, "opinion": value}]}
    assert yamlwrite.dump(rec, "application") == yamlwrite.dump(rec, "application", fast=False)


# -- people and ID numbers ----------------------------------------------------------------------

def check_id(number: str, gender: str | None, born: tuple[int, int]):
    assert ids.id_problem(number) is None, number
    assert number[:6] in ids.DALIAN_REGIONS, number
    if gender:
        assert ids.id_gender(number) == gender, number
    assert born[0] <= ids.id_birth_date(number).year <= born[1], number


def check_people(tree):
    for rec in tree["application"].values():
        w = rec["worker"]
        check_id(w["id_number"], w["gender"], (1960, 1975))
        assert w["birth_month"] == f"{w['id_number'][6:10]}-{w['id_number'][10:12]}"
        assert ids.phone_ok(w["phone"]) and (w["phone"].startswith("0411-8") or len(w["phone"]) == 11)
        assert 2 <= w["household_size"] <= 6
        assert Decimal(350) <= w["income_per_capita"] <= Decimal(901)
        s = rec["student"]
        if "id_number" in s:
            check_id(s["id_number"], None, (1990, 2005))
            gap = ids.id_birth_date(s["id_number"]).year - ids.id_birth_date(w["id_number"]).year
            assert 19 <= gap <= 45, rec["id"]
        if rec["flags"].get("single_mother"):
            assert w["gender"] == "女"
    for rec in tree["graduate"].values():
        g = rec["graduate"]
        check_id(g["id_number"], g["gender"], (1985, 1990))
        check_id(rec["family"]["worker_id_number"], None, (1960, 1975))
    for r in tree["reviewers"]:
        for number in [r.get("id_number")] + r.get("family_id_numbers", []):
            if number:
                check_id(number, None, (1930, 2010))


def test_people(tree):
    check_people(tree)


def test_distinct_people_distinct_ids(tree):
    by_number = {}
    for rec in tree["application"].values():
        w = rec["worker"]
        assert by_number.setdefault(w["id_number"], w["name"]) == w["name"]
        if "id_number" in rec["student"]:
            assert by_number.setdefault(rec["student"]["id_number"], rec["student"]["name"]) == rec["student"]["name"]


# -- applications -------------------------------------------------------------------------------

def check_no_double_aid(tree):
    seen = set()
    for rec in tree["application"].values():
        key = (rec["year"], rec["worker"]["id_number"], rec["student"]["name"])
        assert key not in seen, f"{rec['id']}: child aided twice in {rec['year']}"
        seen.add(key)


def check_continuing(tree):
    apps = tree["application"]
    for rec in apps.values():
        if rec["form"] != "continuing":
            continue
        prev = apps[rec["continues"]]
        assert prev["year"] == rec["year"] - 1 and prev["form"] in ("new", "continuing")
        assert prev["worker"] == rec["worker"] and prev["student"] == rec["student"], rec["id"]
        assert prev["unit"] == rec["unit"]
        s = rec["student"]
        assert s["education"] in ("本科", "大专", "高职")
        course = tree["campaign"][rec["year"]]["course_years"][s["education"]]
        assert rec["year"] - s["admission_year"] < course
        assert s["admission_year"] in tree["campaign"][rec["year"]]["continuing_years"]
        first = rec
        while first["form"] == "continuing":
            first = apps[first["continues"]]
        assert first["year"] == s["admission_year"] and first["form"] == "new"
        assert rec["aid"] == {**rec["aid"], "funding_unit": "dl",
                              "amount": tree["campaign"][rec["year"]]["amounts"]["continuing"][s["education"]]}
        assert rec["documents"]["system_printout"]


def check_approvals(tree, complete_years):
    units = {u["id"]: u for u in tree["units"]}
    reviewers = {r["id"]: r for r in tree["reviewers"]}
    states = Counter()
    for rec in tree["application"].values():
        unit = units[rec["unit"]]
        assert unit["kind"] in ("enterprise", "street")
        parent = unit["parent"]
        funding = rec["aid"]["funding_unit"]
        assert funding in (rec["unit"], parent, "dl")
        chain = [(1, rec["unit"])] + ([(2, parent)] if funding != rec["unit"] else []) \
            + ([(3, "dl")] if funding == "dl" else [])
        approvals = rec["approvals"]
        assert len(approvals) <= len(chain)
        last = date.fromisoformat(rec["filed_on"])
        for i, (a, (level, who)) in enumerate(zip(approvals, chain)):
            assert a["level"] == level
            r = reviewers[a["reviewer"]]
            assert r["level"] == level and r["unit"] == who, rec["id"]
            day = date.fromisoformat(a["date"])
            assert day > last
            last = day
            if a["decision"] == "reject":
                assert i == len(approvals) - 1
        if approvals and approvals[-1]["decision"] == "reject":
            state = "rejected"
        elif len(approvals) == len(chain):
            state = "complete"
        elif approvals:
            state = "partial"
        else:
            state = "unreviewed"
        states[state] += 1
        if "paid_on" in rec["aid"]:
            assert state == "complete" and date.fromisoformat(rec["aid"]["paid_on"]) >= last
        if rec["year"] in complete_years:
            assert state == "complete", rec["id"]
    return states


def check_amounts_and_dates(tree):
    late = Counter()
    for rec in tree["application"].values():
        c = tree["campaign"][rec["year"]]
        edu, amount, funding = rec["student"]["education"], rec["aid"]["amount"], rec["aid"]["funding_unit"]
        assert isinstance(amount, Decimal)
        if rec["form"] == "new":
            assert rec["student"]["admission_year"] == rec["year"] and edu in c["amounts"]["new"]
            assert amount == c["amounts"]["new"][edu] if funding == "dl" else amount <= c["amounts"]["new"][edu]
            assert set(rec["documents"]) >= {"admission_notice", "exam_scores", "system_printout"}
        elif rec["form"] == "local":
            assert funding != "dl" and 0 < amount <= c["amounts"]["local"][edu]
        filed = date.fromisoformat(rec["filed_on"])
        assert date(rec["year"], 7, 1) <= filed <= date(rec["year"], 8, 31)
        if filed >= date.fromisoformat(c["materials_due"]):
            late[rec["year"]] += 1
    return late


def test_no_child_aided_twice(tree):
    check_no_double_aid(tree)


def test_continuing_chains(tree):
    check_continuing(tree)


def test_approvals(tree):
    states = check_approvals(tree, {2009, 2010})
    assert set(states) == {"complete", "partial", "rejected", "unreviewed"}


def test_amounts_and_filing_dates(tree):
    late = check_amounts_and_dates(tree)
    assert late.get(2009, 0) == late.get(2010, 0) == 0
    assert 2 <= late[2011] <= 3


def test_sizes_and_mix(tree):
    per_year = Counter(r["year"] for r in tree["application"].values())
    assert 50 <= per_year[2009] <= 70 and 80 <= per_year[2010] <= 100 and 140 <= per_year[2011] <= 160
    forms = Counter((r["year"], r["form"]) for r in tree["application"].values())
    assert forms[(2009, "continuing")] == 0
    assert forms[(2010, "continuing")] > 10 and forms[(2011, "continuing")] > 20
    flags = Counter(k for r in tree["application"].values() for k, v in r["flags"].items() if v)
    n = len(tree["application"])
    assert 0.15 < flags["migrant_worker"] / n < 0.35 and flags["model_worker"] < 0.12 * n
    assert flags["in_archive"] > 0.85 * n and flags["single_mother"] > 0
    stages = {r["student"]["education"] for r in tree["application"].values() if r["form"] == "local"}
    assert stages >= {"小学", "初中", "高中", "中职"}
    grads = Counter(r["year"] for r in tree["graduate"].values())
    assert all(20 <= grads[y] <= 40 for y in (2009, 2010, 2011))


# -- graduates, reports, units, reviewers --------------------------------------------------------

def test_graduates(tree):
    apps_workers = {r["worker"]["id_number"] for r in tree["application"].values()}
    linked = 0
    for rec in tree["graduate"].values():
        assert rec["graduate"]["graduation_year"] <= rec["year"]
        for s in rec["services"]:
            assert date.fromisoformat(s["date"]).year == rec["year"]
            assert ("amount" in s) == (s["kind"] in ("small_loan", "subsidy"))
        o = rec["outcome"]
        assert ("employed_on" in o) == o["employed"]
        linked += rec["family"]["worker_id_number"] in apps_workers
    assert linked > 0


def test_reports(tree):
    units = {u["id"]: u for u in tree["units"]}
    upper = {uid for uid, u in units.items() if u["kind"] not in ("enterprise", "street")}
    for (year, uid), rec in tree["report"].items():
        assert uid in upper
        f = rec["funds"]
        assert f["total"] == f["government"] + f["donations"] + f["unions"] + f["other"]
        if "typed_statistics" in rec:
            assert rec["typed_statistics"]["01A"] == f["total"]
    for year in (2009, 2010):
        assert {u for y, u in tree["report"] if y == year} == upper
        assert all(r["filed_on"] <= f"{year}-08-25" for (y, _), r in tree["report"].items() if y == year)
    reported_2011 = {u for y, u in tree["report"] if y == 2011}
    assert reported_2011 < upper and "dl" in reported_2011
    assert any(r["filed_on"] > "2011-08-25" for (y, _), r in tree["report"].items() if y == 2011)
    assert any("typed_statistics" in r for r in tree["report"].values())


def test_units(tree):
    units = {u["id"]: u for u in tree["units"]}
    assert units["dl"]["kind"] == "city" and "parent" not in units["dl"]
    assert units["dl-pld"]["name"] == "普兰店市总工会" and units["dl-pld"]["kind"] == "county_city"
    assert units["dl-ch"]["kind"] == "county"
    grassroots = [u for u in units.values() if u["kind"] in ("enterprise", "street")]
    assert 35 <= len(grassroots) <= 45
    for u in grassroots:
        assert units[u["parent"]]["kind"] in ("district", "county", "county_city", "industry")
        assert u["id"].startswith(u["parent"] + "-")
    assert len({u["name"] for u in units.values()}) == len(units)


def test_reviewers(tree):
    units = {u["id"]: u for u in tree["units"]}
    reviewers = tree["reviewers"]
    by_unit = Counter(r["unit"] for r in reviewers)
    for uid, u in units.items():
        want = 2 if u["kind"] == "city" else 1
        assert by_unit[uid] == want, uid
    level = {"city": 3, "enterprise": 1, "street": 1}
    for r in reviewers:
        assert r["level"] == level.get(units[r["unit"]]["kind"], 2)
        assert r["forge_logins"]["github"]
        for key in r["keys"]:
            kind, b64, comment = key["public_key"].split(" ")
            blob = base64.b64decode(b64)
            assert kind == "ssh-ed25519" and blob[:4] == b"\0\0\0\x0b" and blob[4:15] == b"ssh-ed25519"
            assert blob[15:19] == b"\0\0\0\x20" and len(blob) == 51
            assert comment.startswith(f"jinqiu-TEST-KEY-{r['id']}")
            assert key["fingerprint"] == "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
    assert sum(1 for r in reviewers if r.get("admin")) == 1
    assert [r["unit"] for r in reviewers if r.get("admin")] == ["dl"]
    numbers = [n for r in reviewers for n in [r.get("id_number")] + r.get("family_id_numbers", []) if n]
    assert len(numbers) == len(set(numbers))


def test_test_keys_are_real_ed25519():
    crypto = pytest.importorskip("cryptography.hazmat.primitives.asymmetric.ed25519")
    from cryptography.hazmat.primitives import serialization
    for n in range(5):
        secret = sample.test_key_secret(2011, f"r-x-{n}")
        expected = crypto.Ed25519PrivateKey.from_private_bytes(secret).public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        assert sample.ed25519_public(secret) == expected


def test_keys_dir_holds_working_key_pairs(tmp_path):
    if not shutil.which("ssh-keygen"):
        pytest.skip("no ssh-keygen")
    out, keys = tmp_path / "data", tmp_path / "keys"
    sample.generate(out, applications_per_year=30, keys_dir=keys)
    assert not list(out.rglob("*.pub")) and not (out / "keys").exists()
    text = (out / "reviewers.yaml").read_text(encoding="utf-8")
    rec = read(out / "reviewers.yaml", "reviewers")
    first = rec["reviewers"][0]["keys"][0]
    private = keys / rec["reviewers"][0]["id"]
    derived = subprocess.run(["ssh-keygen", "-y", "-f", str(private)], capture_output=True, text=True, check=True)
    assert derived.stdout.split()[:2] == first["public_key"].split()[:2]
    fp = subprocess.run(["ssh-keygen", "-lf", str(private) + ".pub"], capture_output=True, text=True, check=True)
    assert fp.stdout.split()[1] == first["fingerprint"]
    assert first["public_key"] in text


# -- scale ----------------------------------------------------------------------------------------

def test_scaled_generation(scaled):
    out, counts, elapsed, tree = scaled
    assert 2700 <= counts["application"] <= 3300
    wall, cpu = elapsed
    # About 7,000 records/s on an idle machine; this only catches gross slowdowns (say quadratic
    # work) on a busy runner. Speed proper is the benchmarks' business.
    assert wall < 120 and counts["application"] / cpu > 200, f"{counts['application'] / cpu:.0f} records/s"
    check_no_double_aid(tree)
    check_continuing(tree)
    check_approvals(tree, {2009, 2010})
    check_amounts_and_dates(tree)
    check_people(tree)
    validators = {kind: Draft202012Validator(layout.schema(kind), format_checker=Draft202012Validator.FORMAT_CHECKER)
                  for kind in layout.KINDS}
    for i, (rel, (kind, rec, _)) in enumerate(tree["files"].items()):
        if i % 10 == 0:
            assert not list(validators[kind].iter_errors(rec)), rel
            if kind in ("application", "graduate"):
                assert yamlwrite.dump(rec, kind) == (out / rel).read_text(encoding="utf-8"), rel
