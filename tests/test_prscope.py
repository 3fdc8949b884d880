"""Pull-request mode (prscope): the scoped run reports what the full run reports in the changed files
and the full run's errors anywhere, for changes that join records across files, hide a value behind
a YAML escape, delete or rename a record another continues, or try to slip past the scope."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from jinqiu import cli
from jinqiu.check import validate
from jinqiu.trust import prscope
from jinqiu.problems import ERROR

SAMPLE = Path(__file__).resolve().parent.parent / "data"
ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@jinqiu.invalid", "GIT_COMMITTER_NAME": "t",
       "GIT_COMMITTER_EMAIL": "t@jinqiu.invalid"}


def git(repo: Path, *args: str) -> str:
    import os

    p = subprocess.run(["git", "-C", str(repo), "-c", "commit.gpgsign=false", *args], capture_output=True, text=True,
                       env={**os.environ, **ENV})
    assert p.returncode == 0, p.stderr
    return p.stdout.strip()


@pytest.fixture(scope="module")
def base_repo(tmp_path_factory):
    """The sample data committed on main, with one student's ID number spelt with YAML escapes."""
    repo = tmp_path_factory.mktemp("base") / "repo"
    shutil.copytree(SAMPLE, repo / "data")
    escaped = repo / "data" / ESCAPED
    text = escaped.read_text(encoding="utf-8")
    sid = student_id(text)
    spelt = "".join(f"\\x{ord(c):02x}" if i % 3 == 0 else c for i, c in enumerate(sid))
    escaped.write_text(text.replace(f'id_number: "{sid}"', f'id_number: "{spelt}"'), encoding="utf-8")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    _, problems = validate.run(repo / "data", "data")
    assert not [p for p in problems if p.severity == ERROR], "the base must pass the full run"
    return repo


@pytest.fixture
def repo(base_repo, tmp_path):
    clone = tmp_path / "repo"
    subprocess.run(["git", "clone", "-q", "--no-local", str(base_repo), str(clone)], check=True)
    git(clone, "checkout", "-q", "-b", "pr")
    return clone


ESCAPED = "applications/2011/dl-zs-0001/2011-dl-zs-0001-001.yaml"
CONTINUED = "applications/2009/dl-wfd-0002/2009-dl-wfd-0002-002.yaml"
CONTINUING = "applications/2010/dl-wfd-0002/2010-dl-wfd-0002-002.yaml"


def student_id(text: str) -> str:
    return re.search(r'(?m)^student:\n(?:  .*\n)*?  id_number: "([^"]+)"', text).group(1)


def copy_as(repo: Path, src: str, unit: str, seq: str, **replace) -> str:
    """Copy an application to another union under a new id (its approvals dropped); returns the rel."""
    text = (repo / "data" / src).read_text(encoding="utf-8")
    year, old_unit = src.split("/")[1:3]
    new_id = f"{year}-{unit}-{seq}"
    text = re.sub(r"(?m)^id: .*$", f'id: "{new_id}"', text)
    text = re.sub(r"(?m)^unit: .*$", f"unit: {unit}", text)
    text = text.split("\napprovals:")[0] + "\n"
    text = re.sub(r"(?m)^  paid_(on|by|signature):.*(\n    .*)*\n", "", text)
    for old, new in replace.items():
        text = text.replace(old, new)
    rel = f"applications/{year}/{unit}/{new_id}.yaml"
    (repo / "data" / rel).parent.mkdir(parents=True, exist_ok=True)
    (repo / "data" / rel).write_text(text, encoding="utf-8")
    return rel


def commit(repo: Path, message: str = "pr") -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


def same_as_full(repo: Path, base: str = "main"):
    """Assert the invariant; return (scoped problems, scope)."""
    root = repo / "data"
    scope = prscope.build(root, base, chains=False)
    scoped, _ = validate.scoped(root, "data", scope)
    _, full = validate.run(root, "data")
    mine = {f"data/{r}" for r in scope.changed}
    expected = [p for p in full if p.path in mine or p.severity == ERROR]
    assert scoped == expected, (set(scoped) ^ set(expected))
    return scoped, scope


def codes(problems, rel):
    return sorted(p.code for p in problems if p.path == f"data/{rel}" and p.severity == ERROR)


def test_a_clean_edit_reads_a_handful_of_files(repo):
    path = repo / "data" / CONTINUING
    path.write_text(path.read_text(encoding="utf-8").replace("major: 电子信息工程技术", "major: 软件技术"), encoding="utf-8")
    commit(repo)
    problems, scope = same_as_full(repo)
    assert scope.changed == [CONTINUING]
    assert CONTINUED in scope.related  # the record it continues
    assert len(scope.rels) < 20
    assert not [p for p in problems if p.severity == ERROR]


def test_duplicate_aid_across_two_unions_is_found_in_the_unchanged_file_too(repo):
    src = "applications/2011/dl-ch-0001/2011-dl-ch-0001-001.yaml"
    new = copy_as(repo, src, "dl-zs-0001", "901")
    commit(repo)
    problems, scope = same_as_full(repo)
    assert scope.changed == [new] and src in scope.related
    assert "duplicate-aid" in codes(problems, new) and "duplicate-aid" in codes(problems, src)


def test_a_duplicate_hidden_behind_a_yaml_escape_in_an_unchanged_file(repo):
    text = (repo / "data" / ESCAPED).read_text(encoding="utf-8")
    assert "\\x" in text
    sid = validate.check_file(repo / "data", "data", ESCAPED)[0].data["student"]["id_number"]
    assert sid not in text  # the plain text never holds the number
    other = "applications/2011/dl-ch-0001/2011-dl-ch-0001-001.yaml"
    new = copy_as(repo, other, "dl-ch-0001", "902", **{student_id((repo / "data" / other).read_text(encoding="utf-8")): sid})
    commit(repo)
    problems, _ = same_as_full(repo)
    assert "duplicate-aid" in codes(problems, ESCAPED) and "duplicate-aid" in codes(problems, new)


def test_deleting_a_record_another_continues(repo):
    (repo / "data" / CONTINUED).unlink()
    commit(repo)
    problems, scope = same_as_full(repo)
    assert CONTINUED in scope.changed and CONTINUING in scope.related
    assert codes(problems, CONTINUING) == ["continues-unknown"]


def test_renaming_a_record_another_continues(repo):
    new = CONTINUED.replace("-002.yaml", "-099.yaml")
    git(repo, "mv", f"data/{CONTINUED}", f"data/{new}")
    path = repo / "data" / new
    path.write_text(path.read_text(encoding="utf-8").replace("2009-dl-wfd-0002-002", "2009-dl-wfd-0002-099"), encoding="utf-8")
    commit(repo)
    problems, scope = same_as_full(repo)
    assert scope.changed == sorted([CONTINUED, new])
    assert codes(problems, CONTINUING) == ["continues-unknown"]


def test_an_earlier_new_student_aid_makes_an_unchanged_later_one_wrong(repo):
    """The error lands on a file the pull request did not touch: 新生资助 given twice."""
    later = next(r.rel for r in validate.load(repo / "data", "data").applications
                 if r.data.get("form") == "new" and r.data.get("year") == 2011 and r.data["student"].get("id_number"))
    year_before = copy_as(repo, later, "dl-zs-0001", "903")
    moved = year_before.replace("/2011/", "/2010/").replace("2011-dl-zs-0001-903", "2010-dl-zs-0001-903")
    (repo / "data" / moved).parent.mkdir(parents=True, exist_ok=True)
    text = (repo / "data" / year_before).read_text(encoding="utf-8")
    (repo / "data" / moved).write_text(text.replace("2011-dl-zs-0001-903", "2010-dl-zs-0001-903")
                                       .replace("year: 2011", "year: 2010").replace('"2011-07', '"2010-07'), encoding="utf-8")
    (repo / "data" / year_before).unlink()
    commit(repo)
    problems, _ = same_as_full(repo)
    assert "new-aid-repeated" in codes(problems, later)


def test_untracked_and_uncommitted_changes_are_in_scope(repo):
    src = "applications/2011/dl-ch-0001/2011-dl-ch-0001-001.yaml"
    new = copy_as(repo, src, "dl-zs-0001", "904")  # not even added to git
    problems, scope = same_as_full(repo)
    assert new in scope.changed and "duplicate-aid" in codes(problems, src)


@pytest.mark.parametrize("rel", ["units.yaml", "reviewers.yaml", "campaigns/2011.yaml", "root-of-trust.txt", "README.md"])
def test_a_change_outside_the_records_means_the_full_run(repo, rel):
    path = repo / "data" / rel
    path.write_text((path.read_text(encoding="utf-8") if path.exists() else "") + "\n", encoding="utf-8")
    commit(repo)
    with pytest.raises(prscope.FullRun, match=re.escape(rel)):
        prscope.build(repo / "data", "main")


def test_a_trust_change_reverted_within_the_pull_request_still_means_the_full_run(repo):
    path = repo / "data" / "units.yaml"
    before = path.read_text(encoding="utf-8")
    path.write_text(before + "\n", encoding="utf-8")
    commit(repo, "change")
    path.write_text(before, encoding="utf-8")
    commit(repo, "revert")
    assert git(repo, "diff", "main", "--stat") == ""
    with pytest.raises(prscope.FullRun, match="units.yaml"):
        prscope.build(repo / "data", "main")


def test_gitattributes_means_the_full_run(repo):
    (repo / ".gitattributes").write_text("*.yaml text eol=crlf\n", encoding="utf-8")
    commit(repo)
    with pytest.raises(prscope.FullRun, match="gitattributes"):
        prscope.build(repo / "data", "main")


def run_cli(*argv):
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), out, err)
    return code, out.getvalue(), err.getvalue()


def test_a_shallow_clone_is_checked_whole_and_says_why(base_repo, tmp_path):
    clone = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{base_repo}", str(clone)], check=True)
    with pytest.raises(prscope.FullRun, match="浅克隆"):
        prscope.build(clone / "data", "main")
    code, _, err = run_cli("validate", "--data", str(clone / "data"), "--changed-since", "HEAD~1", "--no-cache")
    files = len(validate.load(clone / "data", "data").records)
    assert code == 0 and "全部校验：仓库是浅克隆" in err and f"共校验 {files} 个文件" in err


def test_an_unknown_base_is_checked_whole(repo):
    code, _, err = run_cli("validate", "--data", str(repo / "data"), "--changed-since", "no-such-branch", "--no-cache")
    assert code == 0 and "全部校验：找不到 no-such-branch" in err


def test_cli_reports_the_errors_of_the_scoped_run(repo, monkeypatch):
    src = "applications/2011/dl-ch-0001/2011-dl-ch-0001-001.yaml"
    new = copy_as(repo, src, "dl-zs-0001", "905")
    commit(repo)
    monkeypatch.chdir(repo)
    code, out, err = run_cli("validate", "--data", "data", "--changed-since", "main", "--format", "github")
    assert code == 1
    assert f"::error file=data/{new}," in out and f"::error file=data/{src}," in out
    assert "按改动范围校验" in err and "改动了 1 个文件" in err


def test_hostile_values_cannot_hide_a_join(repo):
    """The same child by the family key only (another student ID number), the worker's number spelt
    with escapes in the new record so that its text nowhere holds it: the unchanged record is still
    found; and a
    value made of spaces and quotes alone falls back to the full run rather than guessing."""
    src = "applications/2011/dl-ch-0001/2011-dl-ch-0001-001.yaml"
    text = (repo / "data" / src).read_text(encoding="utf-8")
    sid = student_id(text)
    wid = re.search(r'(?m)^worker:\n(?:  .*\n)*?  id_number: "([^"]+)"', text).group(1)
    spelt = "".join(f"\\u{ord(c):04x}" for c in wid)
    new = copy_as(repo, src, "dl-zs-0001", "906", **{f'id_number: "{wid}"': f'id_number: "{spelt}"',
                                                      f'  id_number: "{sid}"\n': ""})
    assert wid not in (repo / "data" / new).read_text(encoding="utf-8")
    commit(repo)
    problems, _ = same_as_full(repo)
    assert "duplicate-aid" in codes(problems, src) and "duplicate-aid" in codes(problems, new)
    with pytest.raises(prscope.FullRun, match="空格或引号"):
        prscope.pattern(" '\" ")


def test_a_submodule_or_folder_is_judged_as_the_full_run_judges_it(repo):
    """A folder git reports as changed (a submodule's path) is listed only when discover lists it."""
    sub = repo / "data" / "applications" / "2011" / "dl-zs-0001" / "sub"
    sub.mkdir()
    (sub / "2011-dl-zs-0001-907.yaml").write_text("id: x\n", encoding="utf-8")
    same_as_full(repo)


def test_fmt_checks_only_the_changed_files(repo, monkeypatch):
    monkeypatch.chdir(repo)
    assert run_cli("fmt", "--check", "--data", "data", "--changed-since", "main")[2].startswith("没有改动的数据文件")
    path = repo / "data" / CONTINUING
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("form: continuing\nyear: 2010\n", "year: 2010\nform: continuing\n"), encoding="utf-8")
    commit(repo)
    code, out, _ = run_cli("fmt", "--check", "--data", "data", "--changed-since", "main")
    assert code == 1 and out == f"data/{CONTINUING}:1: error: 文件不是统一格式；请运行 python build.py fmt 后提交\n"
    (repo / "data" / "units.yaml").write_text((repo / "data" / "units.yaml").read_text(encoding="utf-8") + "\n\n")
    code, out, _ = run_cli("fmt", "--check", "--data", "data", "--changed-since", "main")
    assert code == 1 and "data/units.yaml:1:" in out  # any data file, not only records


# ---- verify: real signatures (the lab of test_verify) ------------------------------------------

from jinqiu.sample import demo  # noqa: E402
from jinqiu.trust import gitlog, verify
from test_verify import APP, APP2, entry, lab, sign_entry  # noqa: E402,F401  (lab is a fixture)

CONT = "applications/2012/dl-zs-0001/2012-dl-zs-0001-001.yaml"


def verify_same_as_full(lab):
    """Assert the invariant for verify; return (scoped statuses, scoped problems, scope)."""
    scope = prscope.build(lab.data, "main")
    statuses, scoped = verify.run(None, lab.data, display_root="data", use_cache=False, scope=scope)
    full_statuses, full = verify.run(None, lab.data, display_root="data", use_cache=False)
    mine = {f"data/{r}" for r in scope.changed}
    expected = [p for p in full if p.path in mine or p.severity == ERROR]
    assert scoped == expected, set(scoped) ^ set(expected)
    for rel, st in statuses.items():
        assert st == full_statuses[rel], rel
    assert statuses.verified == full_statuses.verified
    return statuses, scoped, scope


@pytest.fixture
def chain(lab):
    """APP approved to the city, and a 2012 continuing application resting on it, approved too; then a
    pull-request branch."""
    for level, date in ((1, "2011-07-21"), (2, "2011-07-22"), (3, "2011-07-23")):
        sign_entry(lab, APP, level, date=date)
    text = demo.application_yaml("2012-dl-zs-0001-001", "dl-zs-0001", worker_seq=1)
    lab.write(CONT, text.replace("form: new\n", "form: continuing\n").replace("approvals: []", 'continues: "2011-dl-zs-0001-001"\napprovals: []'))
    lab.commit("File a continuing application", date="2012-07-20")
    for level, date in ((1, "2012-07-21"), (2, "2012-07-22"), (3, "2012-07-23")):
        sign_entry(lab, CONT, level, date=date)
    _, problems = verify.run(None, lab.data, display_root="data", use_cache=False)
    assert not [p for p in problems if p.severity == ERROR]
    lab.git("checkout", "-q", "-b", "pr")
    return lab


def test_verify_editing_a_record_demotes_the_unchanged_one_that_continues_it(chain):
    path = chain.data / APP
    path.write_text(path.read_text(encoding="utf-8").replace("amount: 5000", "amount: 4000"), encoding="utf-8")
    chain.commit("Change the amount after approval", date="2012-08-01")
    statuses, problems, scope = verify_same_as_full(chain)
    assert scope.changed == [APP] and CONT in scope.related and APP2 not in scope.rels
    assert [p.code for p in problems if p.path == f"data/{CONT}"] == ["continues-not-approved"]


def test_verify_editing_an_approval_entry(chain):
    path = chain.data / APP
    path.write_text(path.read_text(encoding="utf-8").replace("情况属实，同意", "情况属实，同意发放", 1), encoding="utf-8")
    chain.commit("Edit an opinion", date="2012-08-01")
    statuses, problems, _ = verify_same_as_full(chain)
    assert {"approval-unsigned", "approval-removed"} <= {p.code for p in problems if p.path == f"data/{APP}"}
    # the signed entry, edited without its reviewer's signature, stays in force: the record it
    # approved, and the continuing application resting on it, keep their status
    assert statuses[APP].complete and "continues-not-approved" not in {p.code for p in problems if p.path == f"data/{CONT}"}


def test_verify_removing_a_verified_entry(chain):
    path = chain.data / CONT
    text = path.read_text(encoding="utf-8")
    path.write_text(text[:text.rindex("\n- level: 3")] + "\n", encoding="utf-8")
    chain.commit("Drop the city's approval", date="2012-08-01")
    _, problems, _ = verify_same_as_full(chain)
    assert "approval-removed" in {p.code for p in problems if p.path == f"data/{CONT}"}


def test_verify_an_approval_copied_from_an_unchanged_record(chain):
    text = (chain.data / APP).read_text(encoding="utf-8")
    first = text[text.index("approvals:\n") + len("approvals:\n"):].split("\n- level: 2")[0]
    path = chain.data / APP2
    path.write_text(path.read_text(encoding="utf-8").replace("approvals: []\n", "approvals:\n" + first + "\n"), encoding="utf-8")
    chain.commit("Copy an approval", date="2012-08-01")
    _, problems, scope = verify_same_as_full(chain)
    assert APP in scope.related
    assert "approval-copied" in {p.code for p in problems if p.path == f"data/{APP2}"}


def test_verify_in_a_shallow_clone_checks_everything_and_says_why(chain, tmp_path):
    clone = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{chain.repo}", str(clone)], check=True)
    code, _, err = run_cli("verify", "--data", str(clone / "data"), "--changed-since", "HEAD~1", "--no-cache")
    assert "全部核验：仓库是浅克隆" in err


def test_verify_cli_in_scope_writes_the_summary(chain, monkeypatch, tmp_path):
    path = chain.data / APP
    path.write_text(path.read_text(encoding="utf-8").replace("amount: 5000", "amount: 4000"), encoding="utf-8")
    chain.commit("Change the amount after approval", date="2012-08-01")
    monkeypatch.chdir(chain.repo)
    summary = tmp_path / "summary.md"
    code, out, err = run_cli("verify", "--data", "data", "--changed-since", "main", "--format", "github", "--summary", str(summary))
    assert code == 1 and "按改动范围核验" in err
    assert f"::error file=data/{CONT}," in out and "continues-not-approved" in out
    assert "## 2011-dl-zs-0001-001" in summary.read_text(encoding="utf-8")


def test_history_of_some_paths_is_the_full_history_of_those_paths(chain):
    """gitlog.load(paths) gives the same versions, in the same order, for those paths, across a merge."""
    chain.git("checkout", "-q", "-b", "side", "main~2")
    sign_entry(chain, APP2, 1, date="2012-08-02")
    chain.git("checkout", "-q", "pr")
    chain.git("merge", "-q", "--no-ff", "-m", "Merge side", "side")
    sign_entry(chain, APP2, 2, date="2012-08-03")
    whole = gitlog.load(chain.repo, "data")
    some = gitlog.load(chain.repo, "data", [APP2, "reviewers.yaml", "campaigns/"])
    assert set(some.changes) == {APP2, "reviewers.yaml"}
    for rel in some.changes:
        assert some.changes[rel] == whole.changes[rel]
    for c in whole.order:
        assert [r for r in whole.touched.get(c, []) if r in some.changes] == some.touched.get(c, [])
        for dirs in (("applications/",), ("graduates/", "reports/")):
            assert some.touches(c, dirs) == whole.touches(c, dirs)
    assert some.order == whole.order


def test_verify_follows_a_chain_of_continuing_records(chain):
    """2011 ← 2012 ← 2013: editing the 2011 record demotes the 2013 one, two links away, unchanged."""
    chain.git("checkout", "-q", "main")
    cont2 = "applications/2013/dl-zs-0001/2013-dl-zs-0001-001.yaml"
    # another worker's number and another name: only the link joins it (what validate would say of that is not verify's)
    text = demo.application_yaml("2013-dl-zs-0001-001", "dl-zs-0001", worker_seq=3, student="赵小华")
    chain.write(cont2, text.replace("form: new\n", "form: continuing\n").replace("approvals: []", 'continues: "2012-dl-zs-0001-001"\napprovals: []'))
    chain.commit("File the 2013 application", date="2013-07-20")
    for level, date in ((1, "2013-07-21"), (2, "2013-07-22"), (3, "2013-07-23")):
        sign_entry(chain, cont2, level, date=date)
    chain.git("checkout", "-q", "-B", "pr")
    path = chain.data / APP
    path.write_text(path.read_text(encoding="utf-8").replace("amount: 5000", "amount: 4000"), encoding="utf-8")
    chain.commit("Change the amount after approval", date="2013-08-01")
    _, problems, scope = verify_same_as_full(chain)
    assert cont2 in scope.related
    assert [p.code for p in problems if p.path == f"data/{cont2}"] == ["continues-not-approved"]
    assert cont2 not in prscope.build(chain.data, "main", chains=False).related


def test_verify_a_signed_entry_naming_another_records_content_is_an_error_in_both_runs(lab):
    """The hostile case the text search cannot see: a reviewer signs, in APP2, an entry carrying the
    digest of APP's content, which no file names (APP has no approval). The full run calls it copied;
    the scoped run, which does not read APP, calls it a digest that never matched: an error in both,
    never a warning (before, a digest that never matched the record was taken for a stale one)."""
    lab.git("checkout", "-q", "-b", "pr")
    entry(lab, APP2, 1, "r-zs1-01", digest_of=APP)
    lab.commit("Approve with another record's digest", key="r-zs1-01", date="2011-07-21")
    scope = prscope.build(lab.data, "main")
    assert APP not in scope.rels
    _, scoped = verify.run(None, lab.data, display_root="data", use_cache=False, scope=scope)
    _, full = verify.run(None, lab.data, display_root="data", use_cache=False)
    assert [(p.code, p.severity) for p in full if p.path == f"data/{APP2}"] == [("approval-copied", ERROR)]
    assert [(p.code, p.severity) for p in scoped if p.path == f"data/{APP2}"] == [("approval-digest-mismatch", ERROR)]


@pytest.mark.parametrize("disguise", ["{name}\u200b", "{first}\u3000{rest}", "{first}·{rest}"],
                         ids=["zero-width space", "ideographic space", "middle dot"])
def test_a_disguised_name_is_the_same_child_in_the_scoped_run_as_in_the_full_run(repo, disguise):
    """The second application repeats the worker, leaves out the student's ID number and writes the
    student's name with a zero-width space after it, an ideographic space or a middle dot inside it:
    the same child (names compared in canonical form), in both files, in both runs."""
    src = "applications/2011/dl-ch-0001/2011-dl-ch-0001-001.yaml"
    text = (repo / "data" / src).read_text(encoding="utf-8")
    sid = student_id(text)
    name = re.search(r"(?m)^student:\n  name: (.+)$", text).group(1)
    disguised = disguise.format(name=name, first=name[0], rest=name[1:])
    new = copy_as(repo, src, "dl-zs-0001", "907", **{f'  id_number: "{sid}"\n': "",
                                                      f"student:\n  name: {name}\n": f'student:\n  name: "{disguised}"\n'})
    assert disguised in (repo / "data" / new).read_text(encoding="utf-8")
    commit(repo)
    problems, scope = same_as_full(repo)
    assert src in scope.related
    assert "duplicate-aid" in codes(problems, src) and "duplicate-aid" in codes(problems, new)


def test_a_worker_id_number_in_full_width_digits_still_finds_the_unchanged_duplicate(repo):
    """The new record writes the worker's ID number in full-width digits (a schema error there): the
    full run still sees the same child in the unchanged record (ID numbers compared in canonical
    form), so the scoped run must find that record although its text never holds the full-width
    number: prscope searches for the canonical form too."""
    src = "applications/2011/dl-ch-0001/2011-dl-ch-0001-001.yaml"
    text = (repo / "data" / src).read_text(encoding="utf-8")
    sid = student_id(text)
    wid = re.search(r'(?m)^worker:\n(?:  .*\n)*?  id_number: "([^"]+)"', text).group(1)
    wide = "".join(chr(ord(c) + 0xFEE0) for c in wid)
    new = copy_as(repo, src, "dl-zs-0001", "908", **{f'id_number: "{wid}"': f'id_number: "{wide}"',
                                                      f'  id_number: "{sid}"\n': ""})
    commit(repo)
    problems, scope = same_as_full(repo)
    assert src in scope.related
    assert "duplicate-aid" in codes(problems, src)
