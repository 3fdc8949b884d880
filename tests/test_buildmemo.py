"""A build is skipped only when nothing it reads changed and its outputs are as it left them
(jinqiu.publish.buildmemo). Each way of changing an input or an output makes the next build run again and
write what a first build writes; a forged or planted record is never believed."""

import shutil
import subprocess
from pathlib import Path

import pytest

from jinqiu.check import cache
from jinqiu.publish import buildmemo, pipeline as publish

DATA = Path(__file__).parent / "site_data" / "data"
TODAY = "2011-08-20"


def git(repo, *args):
    subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.invalid",
                    "-c", "commit.gpgsign=false", *args], check=True, capture_output=True)


@pytest.fixture
def tree(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    for var in ("GITHUB_TOKEN", "GITEA_TOKEN", "JINQIU_FORGE_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    repo = tmp_path / "repo"
    shutil.copytree(DATA, repo / "data")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "data")
    return repo


def build(repo, today=TODAY):
    result = publish.build(publish.Options(data=repo / "data", out=repo.parent / "out", today=today, pdf=False))
    assert result.site_dir is not None and not result.findings, result.problems[:3]
    return result


def site_files(repo):
    root = repo.parent / "out"
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and "site-build" not in p.parts and p.suffix != ".xlsx"}


def skipped(result) -> bool:
    return "unchanged" in result.timings


def test_unchanged_build_is_skipped_and_returns_the_same_result(tree):
    first = build(tree)
    assert not skipped(first)
    written = site_files(tree)
    second = build(tree)
    assert skipped(second)
    assert site_files(tree) == written
    assert second.problems == first.problems and second.forms == first.forms
    assert dict(second.statuses) == dict(first.statuses)
    assert [st.proofs for st in second.statuses.values()] == [st.proofs for st in first.statuses.values()]
    assert (second.statuses.verified, second.statuses.trust) == (first.statuses.verified, first.statuses.trust)


def test_a_touched_edited_or_added_output_file_means_a_full_build(tree):
    build(tree)
    written = site_files(tree)
    index = tree.parent / "out" / "site" / "index.html"
    index.write_bytes(index.read_bytes().replace(b"</body>", b"<p>planted</p></body>"))
    again = build(tree)
    assert not skipped(again) and site_files(tree) == written
    planted = tree.parent / "out" / "site" / "planted.html"
    planted.write_text("<p>张三 13800000000</p>", encoding="utf-8")
    again = build(tree)
    assert not skipped(again) and not planted.exists() and site_files(tree) == written
    (tree.parent / "out" / "private" / "forms" / next(iter(sorted(p.name for p in (tree.parent / "out" / "private" / "forms").iterdir())))).unlink()
    again = build(tree)
    assert not skipped(again) and site_files(tree) == written


def test_changed_data_a_new_commit_or_another_day_means_a_full_build(tree):
    build(tree)
    record = sorted((tree / "data" / "applications").rglob("*.yaml"))[0]
    text = record.read_text(encoding="utf-8")
    record.write_text(text + "\n", encoding="utf-8")  # same content once parsed, different bytes
    assert not skipped(build(tree))
    assert skipped(build(tree))
    git(tree, "commit", "-qam", "reformat")
    assert not skipped(build(tree))  # the commit (HEAD) changed, and the site shows which one it is
    assert skipped(build(tree))
    assert not skipped(build(tree, today="2011-08-21"))


def test_a_forged_or_foreign_record_is_not_believed(tree):
    build(tree)
    store = cache.Store(tree / "data")
    path = store.path(f"{buildmemo.KIND}-{cache.name_of(tree / 'data')}")
    mac, _, body = path.read_bytes().partition(b"\n")
    path.write_bytes(mac + b"\n" + body.replace(b'"problems":[', b'"problems":[ ', 1))
    assert not skipped(build(tree))
    assert skipped(build(tree))
    path.write_bytes(b"0" * 64 + b"\n" + path.read_bytes().partition(b"\n")[2])
    assert not skipped(build(tree))


def test_never_skipped_with_a_forge_token_or_without_a_cache(tree):
    opts = publish.Options(data=tree / "data", out=tree.parent / "out", today=TODAY, pdf=False)
    assert buildmemo.inputs_key(opts, forge_configured=True) is None
    opts.cache = False
    assert buildmemo.inputs_key(opts, forge_configured=False) is None


def test_the_command_says_when_it_skipped_and_no_cache_rebuilds(tree):
    import io

    from jinqiu import cli

    def run(*extra):
        out, err = io.StringIO(), io.StringIO()
        code = cli.main(["build", "--data", str(tree / "data"), "--out", str(tree.parent / "out"), "--no-pdf",
                         "--today", TODAY, *extra], out, err)
        return code, err.getvalue()

    assert "沿用上次的结果" not in run()[1]
    code, said = run()
    assert code == 0 and "沿用上次的结果" in said and "网站：" in said
    assert "沿用上次的结果" not in run("--no-cache")[1]
