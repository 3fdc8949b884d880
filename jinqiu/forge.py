"""Pull-request reviews on GitHub and Gitea / Forgejo as approval entries.

Recording: the review workflow hands the event payload (GITHUB_EVENT_PATH) to `approve
--forge-review`; `entry_from_review` turns an approving review into the forge part of an entry.
Checking: `checker_from_env` returns a function that asks the forge's review API whether that
review exists, approves, is by that login and reviewed that commit (None without a token).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

GITHUB_API = "https://api.github.com"


def forge_name(env) -> str:
    """github, gitea or forgejo, from the runner's environment."""
    if env.get("FORGEJO_ACTIONS") or env.get("FORGEJO_TOKEN"):
        return "forgejo"
    if env.get("GITEA_ACTIONS") or env.get("GITEA_TOKEN"):
        return "gitea"
    return "github"


def review_from_event(payload: dict, forge: str) -> dict | None:
    """The approving review in a pull_request_review event payload, as the entry's `forge` object;
    None when the review does not approve. GitHub: review.state "approved"; Gitea / Forgejo send
    the same shape (review.type "pull_request_review_approved" or state "APPROVED")."""
    review = payload.get("review") or {}
    pr = payload.get("pull_request") or {}
    state = str(review.get("state") or review.get("type") or "").lower()
    if state not in ("approved", "pull_request_review_approved"):
        return None
    login = (review.get("user") or payload.get("sender") or {}).get("login")
    commit = review.get("commit_id") or (pr.get("head") or {}).get("sha")
    out = {"name": forge, "pull_request": int(pr.get("number") or payload.get("number")),
           "review_id": int(review["id"]) if review.get("id") else None, "login": login,
           "commit": commit or payload.get("commit_id")}
    base = (payload.get("repository") or {}).get("html_url", "")
    if forge != "github" and base:
        out["url"] = base.split("/" + (payload.get("repository") or {}).get("full_name", ""), 1)[0]
    return out


def review_url(api: str, repo: str, f: dict) -> str:
    """The API address of one review: the same path on GitHub and on Gitea / Forgejo (/api/v1)."""
    return f"{api.rstrip('/')}/repos/{repo}/pulls/{f['pull_request']}/reviews/{f['review_id']}"


def api_base(env, forge: str, f: dict) -> str:
    if forge == "github":
        return env.get("GITHUB_API_URL") or GITHUB_API
    server = f.get("url") or env.get("GITHUB_SERVER_URL", "")
    return server.rstrip("/") + "/api/v1"


def check_review(review: dict, f: dict) -> tuple[bool, str]:
    """Does an API review object match the entry: approving, same login, same commit?"""
    state = str(review.get("state", "")).upper()
    if state != "APPROVED":
        return False, f"平台上这次审阅的状态是 {state or '未知'}，不是批准"
    login = (review.get("user") or {}).get("login")
    if login != f.get("login"):
        return False, f"平台上这次审阅的审阅人是 {login}，不是 {f.get('login')}"
    if review.get("commit_id") != f.get("commit"):
        return False, f"平台上这次审阅针对的提交是 {str(review.get('commit_id'))[:10]}，不是 {str(f.get('commit'))[:10]}"
    return True, ""


def _get(url: str, token: str, forge: str, opener):
    auth = f"Bearer {token}" if forge == "github" else f"token {token}"
    req = urllib.request.Request(url, headers={"Authorization": auth, "Accept": "application/json"})
    with opener(req) as resp:
        return json.loads(resp.read().decode("utf-8"))


def find_review_id(env, f: dict, opener=None) -> int | None:
    """Gitea / Forgejo event payloads carry no review id: the newest approving review by that login
    of that commit, from the pull request's review list."""
    token = env.get("JINQIU_FORGE_TOKEN") or env.get("GITHUB_TOKEN") or env.get("GITEA_TOKEN")
    repo = env.get("GITHUB_REPOSITORY")
    if not token or not repo:
        return None
    url = f"{api_base(env, f['name'], f).rstrip('/')}/repos/{repo}/pulls/{f['pull_request']}/reviews"
    try:
        reviews = _get(url, token, f["name"], opener or urllib.request.urlopen)
    except (urllib.error.URLError, OSError, ValueError):
        return None
    ids = [r.get("id") for r in reviews if check_review(r, f)[0]]
    return max(ids) if ids else None


def checker_from_env(env, opener=None):
    """A function(forge entry) -> (ok, reason) using the forge's API, or None without a token."""
    token = env.get("JINQIU_FORGE_TOKEN") or env.get("GITHUB_TOKEN") or env.get("GITEA_TOKEN")
    repo = env.get("GITHUB_REPOSITORY")
    if not token or not repo:
        return None
    opener = opener or urllib.request.urlopen

    def check(f: dict) -> tuple[bool, str]:
        name = f.get("name", "github")
        url = review_url(api_base(env, name, f), repo, f)
        try:
            review = _get(url, token, name, opener)
        except urllib.error.HTTPError as exc:
            return False, f"平台返回 HTTP {exc.code}（{url}）"
        except (urllib.error.URLError, OSError, ValueError) as exc:
            return False, f"无法访问平台接口 {url}：{exc}"
        return check_review(review, f)

    return check
