"""Pull-request reviews on GitHub and Gitea / Forgejo as approval entries, with the forges' API mocked
from their documented payloads (GitHub: the pull_request_review webhook and GET
/repos/{owner}/{repo}/pulls/{n}/reviews/{id}; Gitea/Forgejo: the "reviewed" pull request payload and
GET /api/v1/repos/{owner}/{repo}/pulls/{index}/reviews)."""

from __future__ import annotations

import contextlib
import io
import json
import re

import pytest

from jinqiu import approve, demo, forge, status, validate, verify

APP = "applications/2011/dl-zs-0001/2011-dl-zs-0001-001.yaml"
ENV = {"GITHUB_TOKEN": "t0ken", "GITHUB_REPOSITORY": "city/jinqiu", "GITHUB_SERVER_URL": "https://git.example.cn"}


@pytest.fixture
def lab(tmp_path):
    lab = demo.Lab(tmp_path)
    demo.world(lab)
    lab.write(APP, demo.application_yaml("2011-dl-zs-0001-001", "dl-zs-0001"))
    lab.commit("File", date="2011-07-20")
    return lab


def github_payload(head, login="gh-r-zs1-01", state="approved", review_id=80):
    return {
        "action": "submitted",
        "review": {"id": review_id, "node_id": "PRR_x", "user": {"login": login, "id": 1}, "body": "情况属实，同意上报",
                   "commit_id": head, "submitted_at": "2011-07-21T02:00:00Z", "state": state,
                   "html_url": "https://github.com/city/jinqiu/pull/7#pullrequestreview-80"},
        "pull_request": {"number": 7, "head": {"ref": "apply-0001", "sha": head}, "base": {"ref": "main", "sha": "0" * 40}},
        "repository": {"full_name": "city/jinqiu", "html_url": "https://github.com/city/jinqiu"},
        "sender": {"login": login},
    }


def gitea_payload(head, login="gt-r-zs1-01"):
    return {
        "action": "reviewed", "number": 7, "commit_id": head,
        "pull_request": {"id": 3, "number": 7, "head": {"ref": "apply-0001", "sha": head}, "base": {"ref": "main"}},
        "requested_reviewer": None,
        "repository": {"full_name": "city/jinqiu", "html_url": "https://git.example.cn/city/jinqiu"},
        "sender": {"login": login},
        "review": {"type": "pull_request_review_approved", "content": "同意"},
    }


def api(responses, seen=None):
    """A urlopen stand-in: url -> JSON body."""
    def opener(req):
        if seen is not None:
            seen.append((req.full_url, req.headers.get("Authorization")))
        body = responses.get(req.full_url)
        if body is None:
            raise OSError("no such address")
        return contextlib.closing(io.BytesIO(json.dumps(body).encode()))
    return opener


def record(lab, payload, name, opener=None, env=None):
    data = validate.load(lab.data, "data")
    oid, n = approve.record_forge_review(lab.repo, lab.data, data, payload, name, [f"data/{APP}"],
                                         env={**demo.GIT_ID, **(env or {})}, opener=opener)
    return oid, n


def test_github_review_recorded_and_checked_against_the_api(lab):
    head = lab.git("rev-parse", "HEAD")
    oid, n = record(lab, github_payload(head), "github")
    assert n == 1 and oid
    text = lab.read(APP)
    assert "name: github" in text and "review_id: 80" in text and re.search(f'commit: "?{head}"?\n', text)
    # without a token: said plainly, and not counted
    statuses, problems = verify.run(None, lab.data, display_root="data", use_cache=False)
    p = next(p for p in problems if p.code == "forge-unchecked")
    assert p.severity == "warning" and "没有平台令牌" in p.message and p.path == f"data/{APP}"
    assert statuses[APP].state == status.FILED
    # with the API confirming the review
    seen = []
    url = "https://api.github.com/repos/city/jinqiu/pulls/7/reviews/80"
    good = {"id": 80, "user": {"login": "gh-r-zs1-01"}, "state": "APPROVED", "commit_id": head}
    checker = forge.checker_from_env(ENV, api({url: good}, seen))
    statuses, problems = verify.run(None, lab.data, display_root="data", use_cache=False, forge_checker=checker)
    assert problems == []
    assert statuses[APP] == status.Status(status.APPROVED, 1, False, True)
    assert seen == [(url, "Bearer t0ken")]
    # the API says the review asked for changes
    checker = forge.checker_from_env(ENV, api({url: dict(good, state="CHANGES_REQUESTED")}))
    statuses, problems = verify.run(None, lab.data, display_root="data", use_cache=False, forge_checker=checker)
    assert [p.code for p in problems] == ["forge-review-mismatch"]
    assert "CHANGES_REQUESTED" in problems[0].message
    assert statuses[APP].state == status.FILED


def test_gitea_review_without_id_is_looked_up(lab):
    head = lab.git("rev-parse", "HEAD")
    reviews = "https://git.example.cn/api/v1/repos/city/jinqiu/pulls/7/reviews"
    listing = [{"id": 5, "user": {"login": "gt-r-zs1-01"}, "state": "COMMENT", "commit_id": head},
               {"id": 9, "user": {"login": "gt-r-zs1-01"}, "state": "APPROVED", "commit_id": head}]
    oid, n = record(lab, gitea_payload(head), "gitea", opener=api({reviews: listing}), env=ENV)
    assert n == 1
    assert "review_id: 9" in lab.read(APP) and "url: https://git.example.cn" in lab.read(APP)
    seen = []
    checker = forge.checker_from_env(ENV, api({reviews + "/9": listing[1]}, seen))
    statuses, problems = verify.run(None, lab.data, display_root="data", use_cache=False, forge_checker=checker)
    assert problems == []
    assert statuses[APP].level == 1
    assert seen[0][1] == "token t0ken"


def test_review_of_an_unregistered_login_or_an_old_commit_is_refused(lab):
    head = lab.git("rev-parse", "HEAD")
    with pytest.raises(approve.ApproveError, match="没有在审核人登记中登记"):
        record(lab, github_payload(head, login="somebody"), "github")
    with pytest.raises(approve.ApproveError, match="重新审阅"):
        record(lab, github_payload("1" * 40), "github")
    assert record(lab, github_payload(head, state="commented"), "github") == (None, 0)
    assert "approvals: []" in lab.read(APP)


def test_forge_entry_naming_another_reviewer(lab):
    head = lab.git("rev-parse", "HEAD")
    record(lab, github_payload(head), "github")
    lab.write(APP, lab.read(APP).replace("reviewer: r-zs1-01", "reviewer: r-zs2-01"))
    lab.commit("Edit", date="2011-07-22")
    _, problems = verify.run(None, lab.data, display_root="data", use_cache=False)
    assert "forge-login-mismatch" in {p.code for p in problems}
