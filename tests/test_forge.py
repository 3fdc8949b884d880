"""Pull-request reviews on GitHub and Gitea / Forgejo as approval entries, with the forges' API mocked
from their documented payloads (GitHub REST: the pull_request_review webhook, "Get a review for a
pull request" GET /repos/{owner}/{repo}/pulls/{n}/reviews/{id} and "List pull requests files" GET
/repos/{owner}/{repo}/pulls/{n}/files; Gitea / Forgejo API v1: the "reviewed" pull request payload,
GET /repos/{owner}/{repo}/pulls/{index}/reviews[/{id}] (PullReview) and
GET /repos/{owner}/{repo}/pulls/{index}/files (ChangedFile)). Only that HTTP API is mocked; the
repositories and keys are real."""

from __future__ import annotations

import contextlib
import io
import json
import re

import pytest

from jinqiu.check import validate
from jinqiu.publish import pipeline as publish
from jinqiu.sample import demo
from jinqiu.trust import approve, digest, forge, status, verify

APP = "applications/2011/dl-zs-0001/2011-dl-zs-0001-001.yaml"
APP2 = "applications/2011/dl-zs-0001/2011-dl-zs-0001-002.yaml"
ENV = {"GITHUB_TOKEN": "t0ken", "GITHUB_REPOSITORY": "city/jinqiu"}  # GitHub: api.github.com
GITEA_ENV = {"GITHUB_TOKEN": "t0ken", "GITHUB_REPOSITORY": "city/jinqiu", "GITEA_ACTIONS": "true",
             "GITHUB_SERVER_URL": "https://git.example.cn", "GITHUB_API_URL": "https://git.example.cn/api/v1"}
GH = "https://api.github.com/repos/city/jinqiu/pulls/7"
GT = "https://git.example.cn/api/v1/repos/city/jinqiu/pulls/7"


def github_review(head, login="gh-r-zs1-01", state="APPROVED", review_id=80):
    """GitHub's review object (REST "Get a review for a pull request")."""
    return {"id": review_id, "node_id": "MDE3OlB1bGxSZXF1ZXN0UmV2aWV3ODA=", "user": {"login": login, "id": 1, "type": "User"},
            "body": "情况属实，同意上报", "state": state, "html_url": f"https://github.com/city/jinqiu/pull/7#pullrequestreview-{review_id}",
            "pull_request_url": "https://api.github.com/repos/city/jinqiu/pulls/7", "submitted_at": "2011-07-21T02:00:00Z",
            "commit_id": head, "author_association": "COLLABORATOR"}


def github_files(*paths):
    """GitHub's "List pull requests files" items."""
    return [{"sha": "bbcd538c8e72b8c175046e27cc8f907076331401", "filename": p, "status": "added", "additions": 40,
             "deletions": 0, "changes": 40, "blob_url": f"https://github.com/city/jinqiu/blob/x/{p}",
             "raw_url": f"https://github.com/city/jinqiu/raw/x/{p}", "contents_url": f"https://api.github.com/repos/city/jinqiu/contents/{p}",
             "patch": "@@ -0,0 +1,40 @@"} for p in paths]


def gitea_review(head, review_id=9, login="gt-r-zs1-01", state="APPROVED", dismissed=False):
    """Gitea / Forgejo's PullReview."""
    return {"id": review_id, "user": {"id": 3, "login": login, "full_name": ""}, "team": None, "state": state,
            "body": "同意", "commit_id": head, "stale": False, "official": True, "dismissed": dismissed,
            "comments_count": 0, "submitted_at": "2011-07-21T10:00:00+08:00", "updated_at": "2011-07-21T10:00:00+08:00",
            "html_url": f"https://git.example.cn/city/jinqiu/pulls/7#issuecomment-{review_id}",
            "pull_request_url": "https://git.example.cn/city/jinqiu/pulls/7"}


def gitea_files(*paths):
    """Gitea / Forgejo's ChangedFile items."""
    return [{"filename": p, "previous_filename": "", "status": "added", "additions": 40, "deletions": 0, "changes": 40,
             "html_url": f"https://git.example.cn/city/jinqiu/src/commit/x/{p}",
             "contents_url": f"https://git.example.cn/api/v1/repos/city/jinqiu/contents/{p}",
             "raw_url": f"https://git.example.cn/city/jinqiu/raw/commit/x/{p}"} for p in paths]


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
    def opener(req, timeout=None):
        assert timeout, "every request has a time limit"
        if seen is not None:
            seen.append((req.full_url, req.headers.get("Authorization")))
        body = responses.get(req.full_url)
        if body is None and "page=" in req.full_url:
            body = []  # past the last page
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
    assert "url:" not in text  # no address is recorded: it comes from configuration
    # without a token: said plainly, and not counted
    statuses, problems = verify.run(None, lab.data, display_root="data", use_cache=False)
    p = next(p for p in problems if p.code == "forge-unchecked")
    assert p.severity == "warning" and "没有平台令牌" in p.message and p.path == f"data/{APP}"
    assert statuses[APP].state == status.FILED
    # with the API confirming the review and that the pull request changed this file
    seen = []
    responses = {f"{GH}/reviews/80": github_review(head), f"{GH}/files?per_page=100&page=1": github_files(f"data/{APP}")}
    checker = forge.checker_from_env(ENV, api(responses, seen))
    statuses, problems = verify.run(None, lab.data, display_root="data", use_cache=False, forge_checker=checker)
    assert problems == []
    assert statuses[APP] == status.Status(status.APPROVED, 1, False, True)
    assert seen == [(f"{GH}/reviews/80", "Bearer t0ken"), (f"{GH}/files?per_page=100&page=1", "Bearer t0ken")]
    # the API says the review asked for changes
    checker = forge.checker_from_env(ENV, api(dict(responses, **{f"{GH}/reviews/80": github_review(head, state="CHANGES_REQUESTED")})))
    statuses, problems = verify.run(None, lab.data, display_root="data", use_cache=False, forge_checker=checker)
    assert [p.code for p in problems] == ["forge-review-mismatch"]
    assert "CHANGES_REQUESTED" in problems[0].message
    assert statuses[APP].state == status.FILED


def test_gitea_review_without_id_is_looked_up(lab):
    head = lab.git("rev-parse", "HEAD")
    listing = [gitea_review(head, 5, state="COMMENT"), gitea_review(head, 9)]
    oid, n = record(lab, gitea_payload(head), "gitea", opener=api({f"{GT}/reviews": listing}), env=GITEA_ENV)
    assert n == 1
    assert "review_id: 9" in lab.read(APP) and "url:" not in lab.read(APP)
    seen = []
    checker = forge.checker_from_env(GITEA_ENV, api({f"{GT}/reviews/9": listing[1],
                                                     f"{GT}/files?limit=50&page=1": gitea_files("README.md", f"data/{APP}")}, seen))
    statuses, problems = verify.run(None, lab.data, display_root="data", use_cache=False, forge_checker=checker)
    assert problems == []
    assert statuses[APP].level == 1
    assert {a for _, a in seen} == {"token t0ken"}
    # a dismissed approval does not count
    checker = forge.checker_from_env(GITEA_ENV, api({f"{GT}/reviews/9": gitea_review(head, 9, dismissed=True),
                                                     f"{GT}/files?limit=50&page=1": gitea_files(f"data/{APP}")}))
    statuses, problems = verify.run(None, lab.data, display_root="data", use_cache=False, forge_checker=checker)
    assert [p.code for p in problems] == ["forge-review-mismatch"] and "撤销" in problems[0].message


def test_the_forge_and_its_address_come_only_from_configuration(lab):
    """(a) An entry that names another forge and server never sends the token anywhere else."""
    head = lab.git("rev-parse", "HEAD")
    record(lab, github_payload(head), "github")
    text = lab.read(APP).replace("name: github", "name: gitea\n    url: https://evil.example")
    lab.write(APP, text.replace("login: gh-r-zs1-01", "login: gt-r-zs1-01"))
    lab.commit("Point the entry at another server", date="2011-07-22")
    seen = []
    everything = api({f"{GH}/reviews/80": github_review(head), f"{GH}/files?per_page=100&page=1": github_files(f"data/{APP}"),
                      "https://evil.example/api/v1/repos/city/jinqiu/pulls/7/reviews/80": gitea_review(head, 80)}, seen)
    statuses, problems = verify.run(None, lab.data, display_root="data", use_cache=False,
                                    forge_checker=forge.checker_from_env(ENV, everything))
    assert all(url.startswith("https://api.github.com/") for url, _ in seen), seen
    assert statuses[APP].state == status.FILED
    assert {p.code for p in problems} & {"forge-login-unregistered", "forge-review-mismatch"}
    # the configuration decides: JINQIU_FORGE and JINQIU_FORGE_API_URL, never the entry
    checker = forge.checker_from_env({**ENV, "JINQIU_FORGE": "gitea", "JINQIU_FORGE_API_URL": "https://git.city.cn/api/v1"})
    assert (checker.forge, checker.api) == ("gitea", "https://git.city.cn/api/v1")
    assert forge.checker_from_env({**ENV, "GITEA_ACTIONS": "true"}) is None  # a self-hosted forge without an address
    with pytest.raises(forge.ForgeConfigError):
        forge.checker_from_env({**ENV, "JINQIU_FORGE": "gitlab"})
    with pytest.raises(forge.ForgeConfigError):
        forge.checker_from_env({**ENV, "JINQIU_FORGE_API_URL": "https://user:pw@evil.example"})


def test_a_review_proves_only_the_files_its_pull_request_changed(lab):
    """(b) One genuine review copied into an application that was never in that pull request."""
    lab.write(APP2, demo.application_yaml("2011-dl-zs-0001-002", "dl-zs-0001", worker_seq=2, student="李小红"))
    lab.commit("Another application, in another pull request", date="2011-07-20")
    head = lab.git("rev-parse", "HEAD")
    record(lab, github_payload(head), "github")
    entry = lab.read(APP).split("approvals:\n", 1)[1]
    data = validate.load(lab.data, "data")
    other = next(r for r in data.applications if r.rel == APP2)
    entry = re.sub(r"digest: \S+", f"digest: {digest.of(other.data)}", entry)  # the copy names the other file's content
    lab.write(APP2, lab.read(APP2).replace("approvals: []\n", "approvals:\n" + entry))
    lab.commit("Copy the review into another application", date="2011-07-22")
    responses = {f"{GH}/reviews/80": github_review(head), f"{GH}/files?per_page=100&page=1": github_files(f"data/{APP}")}
    statuses, problems = verify.run(None, lab.data, display_root="data", use_cache=False,
                                    forge_checker=forge.checker_from_env(ENV, api(responses)))
    assert statuses[APP].level == 1
    assert statuses[APP2].state == status.FILED
    p = next(p for p in problems if p.path == f"data/{APP2}")
    assert p.code == "forge-review-mismatch" and f"没有改动 data/{APP2}" in p.message
    # the same file, in the pull request, but changed after the review: the digest at the reviewed commit differs
    lab.write(APP, lab.read(APP).replace("amount: 5000", "amount: 4000"))
    data = validate.load(lab.data, "data")
    now = next(r for r in data.applications if r.rel == APP)
    lab.write(APP, re.sub(r"digest: \S+", f"digest: {digest.of(now.data)}", lab.read(APP)))
    lab.commit("Change the amount and claim the review covers it", date="2011-07-23")
    statuses, problems = verify.run(None, lab.data, display_root="data", use_cache=False,
                                    forge_checker=forge.checker_from_env(ENV, api(responses)))
    assert statuses[APP].state == status.FILED
    assert "forge-review-content" in {p.code for p in problems if p.path == f"data/{APP}"}


def test_the_build_counts_verified_forge_reviews_when_a_token_is_configured(lab, monkeypatch):
    """(c) web-only reviewers' approvals reach the statuses the site, statistics and forms use."""
    head = lab.git("rev-parse", "HEAD")
    record(lab, github_payload(head), "github")
    data = validate.load(lab.data, "data")
    rid = "2011-dl-zs-0001-001"
    sts, _ = publish.statuses(data, env={})
    assert sts[rid].state == status.FILED
    responses = {f"{GH}/reviews/80": github_review(head), f"{GH}/files?per_page=100&page=1": github_files(f"data/{APP}")}
    monkeypatch.setattr(forge.urllib.request, "urlopen", api(responses))
    sts, problems = publish.statuses(data, env=ENV)
    assert sts[rid].state == status.APPROVED and sts[rid].level == 1
    assert [p for p in problems if p.path.endswith(APP)] == []


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


@pytest.mark.parametrize("failure", ["timeout", "html", "cut", "http"])
def test_a_forge_that_fails_is_a_message_not_a_traceback(lab, failure):
    import http.client
    import urllib.error

    head = lab.git("rev-parse", "HEAD")
    record(lab, github_payload(head), "github")

    def opener(req, timeout=None):
        if failure == "timeout":
            raise TimeoutError("timed out")
        if failure == "cut":
            raise http.client.IncompleteRead(b"{")
        if failure == "http":
            raise urllib.error.HTTPError(req.full_url, 502, "Bad Gateway", {}, None)
        return contextlib.closing(io.BytesIO(b"<html>\xff</html>"))

    statuses, problems = verify.run(None, lab.data, display_root="data", use_cache=False,
                                    forge_checker=forge.checker_from_env(ENV, opener))
    assert [p.code for p in problems] == ["forge-review-mismatch"]
    assert "平台" in problems[0].message
    assert statuses[APP].state == status.FILED
