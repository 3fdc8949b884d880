"""A sealed city end to end through the command line (issue 21): real age keys made by `keys init`,
keyrings signed with a real ssh-keygen administrator key, a real .xlsx sheet, a key repository of its
own (git), and the data in a real git repository."""

from __future__ import annotations

import io
import re
import subprocess
from pathlib import Path

import openpyxl
import pytest
from io_fixtures import HEADERS_NEW, make_data, row_new

from jinqiu import cli
from jinqiu.check import validate
from jinqiu.records import dataset, layout, sealed, yamlwrite
from jinqiu.sample import demo
from jinqiu.trust import digest

ID_OR_MOBILE = re.compile(r"(?<![0-9A-Za-z+/])([0-9]{17}[0-9X]|1[3-9][0-9]{9})(?![0-9A-Za-z+/])")
PEOPLE = {  # who -> union of the member (build and escrow are the city's own keys)
    "clerk": "dl-zs-0001", "district": "dl-zs", "city": "dl", "xg-clerk": "dl-xg-0001",
}


def run(*argv, env=None, monkeypatch=None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main([str(a) for a in argv], out, err)
    return code, out.getvalue(), err.getvalue()


def xlsx(path: Path, rows: list) -> Path:
    wb = openpyxl.Workbook()
    for r in rows:
        wb.active.append(r)
    wb.save(path)
    return path


@pytest.fixture
def city(tmp_path, monkeypatch):
    monkeypatch.delenv("JINQIU_IDENTITY", raising=False)
    monkeypatch.delenv("JINQIU_KEYS", raising=False)
    lab = demo.Lab(tmp_path / "lab")
    data = make_data(lab.data)
    admin = lab.key("r-dl-01")
    (data / "reviewers.yaml").write_text("reviewers:\n" + demo.reviewer_yaml(
        "r-dl-01", "王立新", "dl", 3, [{"public_key": admin, "valid_from": "2009-01-01"}], admin=True), encoding="utf-8")
    ids = tmp_path / "identities"
    ids.mkdir()
    public = {}
    monkeypatch.setenv("JINQIU_PASSPHRASE", "clerk-passphrase-1")  # as typed at the terminal
    for who in [*PEOPLE, "build", "escrow"]:
        code, out, err = run("keys", "init", "--out", ids / who, *([] if who == "clerk" else ["--no-passphrase"]))
        assert code == 0, err
        public[who] = out.strip()
        assert public[who].startswith("age1") and (ids / who).stat().st_mode & 0o777 == 0o600
    members = "".join(f"- id: m-{who}\n  unit: {unit}\n  recipient: {public[who]}\n  valid_from: \"2009-01-01\"\n"
                      for who, unit in PEOPLE.items())
    (data / "sealing.yaml").write_text(f"since: 2011\nretain_years: 5\nbuild: {public['build']}\nescrow: {public['escrow']}\n"
                                       f"members:\n{members}groups: {{}}\n", encoding="utf-8")
    keys = tmp_path / "keys"
    keys.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main", str(keys)], check=True)
    code, out, err = run("keys", "new-year", "2011", "--data", data, "--keys", keys, "--admin-key", lab.keys / "r-dl-01",
                         "--today", "2011-06-01")
    assert code == 0, err
    subprocess.run(["git", "-C", str(keys), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(keys), "-c", "user.name=a", "-c", "user.email=a@a", "commit", "-q", "-m", "2011"], check=True)
    return {"lab": lab, "data": data, "ids": ids, "keys": keys, "public": public}


def sheet_rows(n=4):
    return [row_new(i) for i in range(n)]


def import_sheet(city, tmp_path, rows, *more):
    sheet = xlsx(tmp_path / "a.xlsx", [HEADERS_NEW] + rows)
    return run("import", sheet, "--unit", "dl-zs-0001", "--data", city["data"], *more)


def stored_files(data: Path) -> dict:
    return {p.relative_to(data).as_posix(): p.read_bytes() for p in sorted((data / "applications").rglob("*.yaml"))}


def keyed(city, who, *argv):
    return run(*argv, "--identity", city["ids"] / who, "--keys", city["keys"])


def test_new_year_writes_signed_keyrings_outside_the_data_and_public_keys_into_sealing(city):
    cfg = sealed.load_config(city["data"])
    grassroots = ["dl-xg-0001", "dl-zs-0001", "dl-zs-0002"]
    assert sorted(cfg.groups["2011"]) == grassroots
    for unit in grassroots:
        assert (city["keys"] / "2011" / f"{unit}.1.age").is_file() and (city["keys"] / "2011" / f"{unit}.1.age.sig").is_file()
    assert not list(city["data"].rglob("*.age"))
    # sealing.yaml is trust data: a change to it needs an administrator's signature like the registry
    from jinqiu.trust import anchor

    assert anchor.is_trust("sealing.yaml")
    _, problems = validate.run(city["data"], "data")
    assert [p.text() for p in problems if p.severity == "error"] == []


def test_a_clerk_files_without_a_key_and_no_clone_shows_a_personal_value(city, tmp_path):
    rows = sheet_rows()
    code, out, err = import_sheet(city, tmp_path, rows)
    assert code == 0, out + err
    written = stored_files(city["data"])
    assert len(written) == 4
    for text in written.values():
        t = text.decode()
        assert "sealed:" in t and not ID_OR_MOBILE.search(t)
    everything = b"".join(written.values()).decode()
    for row in rows:
        for value in (row[1], row[5], row[6], row[7], row[12]):  # names, ID, address, phone, student's name
            assert str(value) not in everything
    code, out, err = run("check-sealed", "--data", city["data"])
    assert code == 0, out + err
    code, out, err = run("validate", "--data", city["data"], "--no-cache")
    assert code == 0, out + err
    assert "validate --keyed" in err


def test_check_sealed_refuses_clear_personal_data_before_merge(city, tmp_path):
    import_sheet(city, tmp_path, sheet_rows(2))
    data = city["data"]
    rel = sorted(stored_files(data))[0]
    path = data / rel
    # a hand-edit puts the phone number back in clear, and an opinion carries an ID number
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"(?m)^  phone: ENC\[.*\]$", '  phone: "13904110000"', text)
    text = text.replace("approvals: []", "approvals: []\nnote: 身份证 210202196801011234 已核")
    path.write_text(text, encoding="utf-8")
    code, out, err = run("check-sealed", "--data", data)
    assert code == 1
    assert f"data/{rel}:" in out or f"{rel}:" in out
    assert "sealed-clear" not in out  # the message is Chinese, the code is not shown in text
    assert "“联系电话”" in out and "ENC[jq1" in out
    assert "2102**" in out or "像身份证号码" in out
    assert "13904110000" not in out and "210202196801011234" not in out  # masked


def test_keyed_checks_fail_closed_without_the_key_and_find_what_keyless_cannot(city, tmp_path):
    import_sheet(city, tmp_path, sheet_rows(2))
    data = city["data"]
    code, out, err = run("validate", "--data", data, "--keyed")
    assert code == 2
    assert "密钥" in err and "不会当作通过" in err
    code, out, err = keyed(city, "build", "validate", "--data", data, "--keyed")
    assert code == 0, out + err
    # a record sealed with a wrong check digit: only the keyed tier can see it
    rels = sorted(stored_files(data))
    rec = validate.check_file(data, "data", rels[0])[0]
    opened = sealed.open_record(rec.data, sealed.personal_pointers(layout.schema("application")),
                                _groups(city, "build", rec.data))
    bad = opened["worker"]["id_number"][:-1] + ("0" if opened["worker"]["id_number"][-1] != "0" else "1")
    opened["worker"]["id_number"] = bad
    resealed = sealed.seal(opened, sealed.personal_pointers(layout.schema("application")), rec.data["sealed"]["to"])
    (data / rels[0]).write_text(yamlwrite.dump(resealed, "application"), encoding="utf-8")
    code, out, err = run("validate", "--data", data, "--no-cache")
    assert code == 0, out + err  # keyless cannot know
    code, out, err = keyed(city, "build", "validate", "--data", data, "--keyed")
    assert code == 1 and f"{rels[0]}:" in out and "身份证号码" in out, out + err
    assert bad not in out


def test_a_value_moved_between_records_fails_naming_the_file(city, tmp_path):
    import_sheet(city, tmp_path, sheet_rows(2))
    data = city["data"]
    a, b = sorted(stored_files(data))
    name_a = re.search(r"(?m)^  name: (ENC\[.*\])$", (data / a).read_text()).group(1)
    text_b = (data / b).read_text()
    text_b = re.sub(r"(?m)^  name: ENC\[.*\]$", f"  name: {name_a}", text_b, count=1)
    (data / b).write_text(text_b)
    code, out, err = keyed(city, "build", "validate", "--data", data, "--keyed")
    assert code == 1
    line = next(line for line in out.splitlines() if "加密" in line)
    assert line.startswith(f"data/{b}:") or f"/{b}:" in line, out
    assert a not in line


def _groups(city, who, stored):
    from jinqiu.trust import keyring

    reviewers = validate.load(city["data"], "data").reviewers
    o = keyring.Opener(city["keys"], keyring.read_identities(city["ids"] / who, lambda: "clerk-passphrase-1"),
                       keyring.admin_fingerprints(reviewers))
    return o.groups(stored["year"], stored["unit"])


def test_each_member_reads_their_subtree_through_show(city, tmp_path):
    import_sheet(city, tmp_path, sheet_rows(1))
    rel = sorted(stored_files(city["data"]))[0]
    row = sheet_rows(1)[0]
    for who, can in (("clerk", True), ("district", True), ("city", True), ("build", True), ("xg-clerk", False)):
        code, out, err = keyed(city, who, "show", "--data", city["data"], city["data"] / rel)
        assert (code == 0) == can, (who, err)
        assert (row[5] in out) == can
        if not can:
            assert "审批链" in err
    code, out, err = run("show", "--data", city["data"], city["data"] / rel)
    assert code == 2 and "密钥" in err


def test_reimporting_with_a_key_changes_nothing_and_without_one_is_told(city, tmp_path):
    rows = sheet_rows(3)
    import_sheet(city, tmp_path, rows)
    before = stored_files(city["data"])
    code, out, err = import_sheet(city, tmp_path, rows, "--identity", city["ids"] / "clerk", "--keys", city["keys"])
    assert code == 0, out + err
    assert "未变 3 个" in err
    assert stored_files(city["data"]) == before
    # one changed cell with the key: only that value's ciphertext changes, the others keep theirs
    rows[0][7] = "13904119999"
    code, out, err = import_sheet(city, tmp_path, rows, "--identity", city["ids"] / "clerk", "--keys", city["keys"])
    assert code == 0 and "更新 1 个" in err, out + err
    after = stored_files(city["data"])
    changed = [rel for rel in after if after[rel] != before[rel]]
    assert len(changed) == 1
    diff = [(x, y) for x, y in zip(before[changed[0]].decode().splitlines(), after[changed[0]].decode().splitlines()) if x != y]
    assert {x.split(":")[0].strip() for x, _ in diff} == {"phone", "salt", "commit"}
    # without a key the clerk is told the rows could not be matched with the sealed records
    code, out, err = import_sheet(city, tmp_path, rows[:1])
    assert "加密保存的记录" in out and "validate --keyed" in out


def test_shred_a_year_after_retention(city, tmp_path):
    import_sheet(city, tmp_path, sheet_rows(2))
    data = city["data"]
    before = stored_files(data)
    digests = {rel: digest.of(validate.check_file(data, "data", rel)[0].data) for rel in before}
    code, out, err = run("shred", "2011", "--data", data, "--keys", city["keys"], "--today", "2016-12-31")
    assert code == 2 and "2016-12-31" in err
    code, out, err = run("shred", "2011", "--data", data, "--keys", city["keys"], "--today", "2017-01-02")
    assert code == 0, err
    assert not (city["keys"] / "2011").exists()
    log = subprocess.run(["git", "-C", str(city["keys"]), "log", "--all", "--format=%H"], capture_output=True, text=True).stdout.split()
    assert len(log) == 1  # one new root commit: no earlier version of a keyring is left in the key repository
    assert sealed.load_config(data).shredded == [2011]
    for who in ("build", "escrow", "clerk", "city"):
        code, out, err = keyed(city, who, "show", "--data", data, data / sorted(before)[0])
        assert code == 1
    assert stored_files(data) == before  # the data is untouched: approvals' digests stay verifiable
    assert {rel: digest.of(validate.check_file(data, "data", rel)[0].data) for rel in before} == digests
    code, out, err = keyed(city, "build", "validate", "--data", data, "--keyed")
    assert code == 0, out + err  # a shredded year is not an error of the keyed tier


def test_fmt_and_new_and_seal(city, tmp_path):
    import_sheet(city, tmp_path, sheet_rows(2))
    data = city["data"]
    before = stored_files(data)
    code, out, err = run("fmt", "--check", "--data", data)
    assert code == 0, out + err
    code, out, err = run("fmt", "--data", data)
    assert stored_files(data) == before
    code, out, err = run("new", "application", "--form", "new", "--unit", "dl-zs-0001", "--year", "2011", "--data", data,
                         "--date", "2011-07-20")
    assert code == 0, err
    assert "build.py seal" in err
    rel = out.strip()[len(str(data)) + 1:]
    code, out, err = run("check-sealed", "--data", data)
    assert code == 1 and "明文" in out and rel in out


def test_duplicates_across_unions_are_found_only_where_the_city_key_is(city, tmp_path):
    rows = sheet_rows(1)
    import_sheet(city, tmp_path, rows)
    sheet = xlsx(tmp_path / "b.xlsx", [HEADERS_NEW] + rows)  # the same child filed again by another union
    code, out, err = run("import", sheet, "--unit", "dl-xg-0001", "--data", city["data"])
    assert code == 0, out + err
    code, out, err = run("validate", "--data", city["data"], "--no-cache")
    assert code == 0, out + err  # a clerk's clone cannot see it (and holds no key that could)
    code, out, err = keyed(city, "build", "validate", "--data", city["data"], "--keyed")
    assert code == 1 and "重复资助" in out and "dl-xg-0001" in out, out + err
    assert rows[0][5] not in out  # masked


def test_a_reviewer_approving_their_own_sealed_application_is_found_by_the_keyed_tier(city, tmp_path):
    rows = sheet_rows(1)
    import_sheet(city, tmp_path, rows)
    data = city["data"]
    reviewers = (data / "reviewers.yaml").read_text(encoding="utf-8")
    reviewers += demo.reviewer_yaml("r-zs1-01", "张伟", "dl-zs-0001", 1, [{"public_key": city["lab"].key("r-zs1-01")}],
                                    id_number=rows[0][5])
    (data / "reviewers.yaml").write_text(reviewers, encoding="utf-8")
    rel = sorted(stored_files(data))[0]
    text = (data / rel).read_text(encoding="utf-8")
    stored = validate.check_file(data, "data", rel)[0].data
    entry = (f"approvals:\n- level: 1\n  decision: approve\n  opinion: 同意\n  reviewer: r-zs1-01\n  date: \"2011-07-21\"\n"
             f"  digest: {digest.of(stored)}\n")
    (data / rel).write_text(text.replace("approvals: []\n", entry), encoding="utf-8")
    code, out, err = run("validate", "--data", data, "--no-cache")
    assert "approval" not in out and "回避" not in out, out
    code, out, err = keyed(city, "build", "validate", "--data", data, "--keyed")
    assert code == 1 and "回避" in out and f"{rel}:" in out, out + err


def test_seal_writes_a_clear_file_sealed_with_the_public_key_only(city):
    from io_fixtures import application, write_record

    data = city["data"]
    path = write_record(data, application(2011, "dl-zs-0001", 7))
    rel = path.relative_to(data).as_posix()
    clear_text = path.read_text(encoding="utf-8")
    code, out, err = run("check-sealed", "--data", data)
    assert code == 1 and rel in out
    code, out, err = run("seal", "--data", data, path)  # no identity anywhere
    assert code == 0, out + err
    stored = path.read_text(encoding="utf-8")
    assert "ENC[jq1," in stored and not ID_OR_MOBILE.search(stored) and "王建国" not in stored
    assert run("check-sealed", "--data", data)[0] == 0
    code, out, err = keyed(city, "district", "show", "--data", data, path)
    assert code == 0, err
    assert "王建国" in out and "sealed:" not in out
    assert "王建国" in clear_text


def test_a_personal_key_is_kept_under_a_passphrase(city, tmp_path, monkeypatch):
    raw = (city["ids"] / "clerk").read_bytes()
    assert raw.startswith(b"age-encryption.org/v1") and b"AGE-SECRET-KEY" not in raw
    assert b"AGE-SECRET-KEY" in (city["ids"] / "build").read_bytes()  # the build machine's, on its protected disk
    import_sheet(city, tmp_path, sheet_rows(1))
    rel = sorted(stored_files(city["data"]))[0]
    code, out, err = keyed(city, "clerk", "show", "--data", city["data"], city["data"] / rel)
    assert code == 0, err
    monkeypatch.setenv("JINQIU_PASSPHRASE", "wrong-passphrase")
    code, out, err = keyed(city, "clerk", "show", "--data", city["data"], city["data"] / rel)
    assert code == 2 and "口令不对" in err
    monkeypatch.delenv("JINQIU_PASSPHRASE")
    code, out, err = keyed(city, "clerk", "show", "--data", city["data"], city["data"] / rel)
    assert code == 2 and "口令" in err
