"""Links, special files and odd names under data/: each is named with its reason, never followed,
never written through, never published, and none ends in a traceback."""

from __future__ import annotations

import io
import os
import shutil
import unicodedata
from pathlib import Path

import pytest
from io_fixtures import HEADERS_NEW, make_data, row_new
from test_import import xlsx

from jinqiu import cli
from jinqiu.publish import pipeline as publish, site
from jinqiu.records import dataset

BASE = Path(__file__).parent / "cases" / "base"
SITE_DATA = Path(__file__).parent / "site_data" / "data"
APP = "applications/2011/dl-zs-0001/2011-dl-zs-0001-001.yaml"
SECRET = "root:x:0:0:SECRET-OUTSIDE-THE-REPOSITORY"


def run(*argv) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main([str(a) for a in argv], out, err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def outside(tmp_path) -> Path:
    """A folder outside the data directory, with a secret file and a valid-looking record."""
    d = tmp_path / "outside"
    d.mkdir()
    (d / "passwd").write_text(SECRET + "\n", encoding="utf-8")
    shutil.copyfile(BASE / APP, d / "2011-dl-zs-0001-009.yaml")
    return d


def odd_tree(tmp_path: Path, outside: Path) -> tuple[Path, dict]:
    """The base tree plus one of each oddity: {relative path: words its message must contain}."""
    data = tmp_path / "data"
    shutil.copytree(BASE, data)
    unit = data / "applications" / "2011" / "dl-zs-0001"
    odd = {}

    os.symlink(outside / "passwd", unit / "2011-dl-zs-0001-007.yaml")
    odd["applications/2011/dl-zs-0001/2011-dl-zs-0001-007.yaml"] = "符号链接"
    os.symlink(outside, data / "applications" / "2011" / "dl-zs-0009")
    odd["applications/2011/dl-zs-0009"] = "符号链接"
    os.symlink(outside / "passwd", data / "campaigns" / "2012.yaml")
    odd["campaigns/2012.yaml"] = "符号链接"
    os.symlink(outside / "passwd", data / "README.md")  # not even a data file: a link all the same
    odd["README.md"] = "符号链接"
    os.mkfifo(unit / "2011-dl-zs-0001-008.yaml")
    odd["applications/2011/dl-zs-0001/2011-dl-zs-0001-008.yaml"] = "命名管道"
    (data / "campaigns" / "2013.yaml").mkdir()
    (data / "campaigns" / "2013.yaml" / "x.txt").write_text("x", encoding="utf-8")
    odd["campaigns/2013.yaml"] = "目录"
    text = (BASE / APP).read_text(encoding="utf-8")
    for name, words in {
        "2011-dl-zs-0001-011.yml": "扩展名应为 .yaml",
        "2011-dl-zs-0001-012.YAML": "扩展名应为 .yaml",
        "2011-dl-zs-0001-013.yaml.txt": "扩展名应为 .yaml",
        "2011-dl-zs-0001-014..yaml": "不认识",
        "2011-dl-zs-0001-0\u200b15.yaml": "看不见的字符",
        "2011-dl-zs-0001-016\u202elmay.yaml": "看不见的字符",
        unicodedata.normalize("NFD", "2011-dl-zs-0001-017-é.yaml"): "NFC",
        "2011-DL-ZS-0001-018.yaml": "不认识",
    }.items():
        (unit / name).write_text(text, encoding="utf-8")
        odd[f"applications/2011/dl-zs-0001/{name}"] = words
    (unit / "2011-dl-zs-0001-019.yaml").write_text(text, encoding="utf-8")  # its id says -001
    odd["applications/2011/dl-zs-0001/2011-dl-zs-0001-019.yaml"] = "与文件名"
    (data / unicodedata.normalize("NFD", "说明-é.md")).write_text("x", encoding="utf-8")
    odd[unicodedata.normalize("NFD", "说明-é.md")] = "NFC"
    return data, odd


def shown(rel: str) -> str:
    return dataset.display_path("", rel)


def test_every_oddity_in_a_tree_is_named_with_its_reason_and_nothing_is_followed(tmp_path, outside):
    data, odd = odd_tree(tmp_path, outside)
    code, out, err = run("validate", "--data", data, "--no-cache")
    assert code == 1
    assert "Traceback" not in out + err and SECRET not in out + err
    lines = out.splitlines()
    for rel, words in odd.items():
        mine = [x for x in lines if f"{shown(rel)}:" in x]
        assert mine and any(words in x for x in mine), (rel, words, mine)
    assert "dl-zs-0001-009" not in out  # nothing inside the linked folder was read
    assert not any(c in out for c in "\u202e\u200b")  # invisible characters are shown as \u202e


@pytest.mark.parametrize("command", [
    ["fmt", "--check"], ["fmt"], ["build", "--no-pdf", "--allow-invalid", "--out", "{out}"],
    ["export", "--unit", "dl", "--out", "{out}/e.xlsx"], ["renewals", "2012"],
])
def test_no_command_ends_in_a_traceback_on_the_tree_of_oddities(tmp_path, outside, command):
    data, _ = odd_tree(tmp_path, outside)
    (tmp_path / "out").mkdir()
    before = (outside / "passwd").read_bytes()
    code, out, err = run(*[a.replace("{out}", str(tmp_path / "out")) for a in command], "--data", data)
    assert "Traceback" not in out + err and SECRET not in out + err, out + err
    assert (outside / "passwd").read_bytes() == before
    if command[0] == "fmt":
        assert code == 1 and "符号链接" in out + err
    site_dir = tmp_path / "out" / "site"
    if site_dir.exists():
        for p in site_dir.rglob("*"):
            assert not p.is_file() or b"SECRET-OUTSIDE" not in p.read_bytes(), p


def test_fmt_never_writes_through_a_link(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(BASE, data)
    target = tmp_path / "elsewhere.yaml"
    text = (BASE / APP).read_text(encoding="utf-8")
    target.write_text(text.replace("\n", "\n\n", 3), encoding="utf-8")  # not canonical
    before = target.read_bytes()
    os.symlink(target, data / "applications/2011/dl-zs-0001/2011-dl-zs-0001-005.yaml")
    code, out, err = run("fmt", "--data", data)
    assert code == 1 and "2011-dl-zs-0001-005.yaml" in out and "符号链接" in out, out + err
    assert target.read_bytes() == before
    assert (data / "applications/2011/dl-zs-0001/2011-dl-zs-0001-005.yaml").is_symlink()


def test_a_link_in_place_of_a_data_file_is_refused_by_the_reader(tmp_path, outside):
    os.symlink(outside / "passwd", tmp_path / "units.yaml")
    with pytest.raises(dataset.NotRegularFile, match="符号链接"):
        dataset.read_bytes(tmp_path, "units.yaml")
    record, problems, _ = dataset.read_one(tmp_path, "", "units.yaml")
    assert record.data is None and problems[0].code == "path-not-a-file"
    assert SECRET not in problems[0].message


def test_import_never_writes_through_a_linked_folder_or_file(tmp_path):
    data = make_data(tmp_path / "data")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (data / "applications" / "2011").mkdir(parents=True)
    os.symlink(elsewhere, data / "applications" / "2011" / "dl-zs-0001")
    sheet = xlsx(tmp_path / "a.xlsx", [HEADERS_NEW, row_new(0), row_new(1)])
    code, out, err = run("import", sheet, "--unit", "dl-zs-0001", "--data", data)
    assert code == 1 and "Traceback" not in out + err
    assert "符号链接" in out and "未写入" in out, out
    assert list(elsewhere.iterdir()) == []
    # a link where the new file would go
    os.unlink(data / "applications" / "2011" / "dl-zs-0001")
    (data / "applications" / "2011" / "dl-zs-0001").mkdir()
    os.symlink(elsewhere / "x.yaml", data / "applications/2011/dl-zs-0001/2011-dl-zs-0001-001.yaml")
    code, out, err = run("import", sheet, "--unit", "dl-zs-0001", "--data", data)
    assert "Traceback" not in out + err
    assert not (elsewhere / "x.yaml").exists()
    assert (data / "applications/2011/dl-zs-0001/2011-dl-zs-0001-001.yaml").is_symlink()
    with pytest.raises(dataset.NotRegularFile, match="符号链接"):
        dataset.write_text(data, "applications/2011/dl-zs-0001/2011-dl-zs-0001-001.yaml", "id: x\n")
    assert not (elsewhere / "x.yaml").exists()


def test_a_campaign_linked_from_outside_is_not_published(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(SITE_DATA, data)
    campaign = data / "campaigns" / "2011.yaml"
    outside = tmp_path / "campaign-2011.yaml"
    outside.write_text(campaign.read_text(encoding="utf-8").replace("大工办发[2011]25号", "OUTSIDE-NOTICE-42"),
                       encoding="utf-8")
    campaign.unlink()
    os.symlink(outside, campaign)
    result = publish.build(publish.Options(data=data, out=tmp_path / "out", today="2011-08-20", forms=False))
    assert any(p.code == "path-not-a-file" and p.path.endswith("campaigns/2011.yaml") for p in result.problems)
    site_dir = tmp_path / "out" / "site"
    assert not site_dir.exists() or not any(
        b"OUTSIDE-NOTICE-42" in p.read_bytes() for p in site_dir.rglob("*") if p.is_file())


def test_a_link_among_the_sites_own_pages_stops_the_build(tmp_path, monkeypatch):
    src = tmp_path / "site_src"
    shutil.copytree(site.SITE_SRC, src)
    secret = tmp_path / "secret.md"
    secret.write_text(SECRET, encoding="utf-8")
    os.symlink(secret, src / "leak.md")
    monkeypatch.setattr(site, "SITE_SRC", src)
    with pytest.raises(publish.BuildError, match="leak.md 是符号链接"):
        publish.build(publish.Options(data=SITE_DATA, out=tmp_path / "out", today="2011-08-20", forms=False))
    assert not (tmp_path / "out" / "site").exists()


def test_new_never_writes_through_a_link(tmp_path):
    data = make_data(tmp_path / "data")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (data / "applications" / "2011").mkdir(parents=True)
    os.symlink(elsewhere, data / "applications" / "2011" / "dl-zs-0001")
    code, out, err = run("new", "application", "--unit", "dl-zs-0001", "--year", 2011, "--data", data)
    assert code != 0 and "符号链接" in err and "Traceback" not in out + err, out + err
    assert list(elsewhere.iterdir()) == []
