"""Pull-request reviews on GitHub and Gitea / Forgejo as approval entries.

Which forge, and where its API is, come only from configuration, never from the data: the
environment the workflow sets (JINQIU_FORGE = github | gitea | forgejo, JINQIU_FORGE_API_URL), or
else what the Actions runner itself sets (FORGEJO_ACTIONS / GITEA_ACTIONS, GITHUB_API_URL,
GITHUB_REPOSITORY). An entry's own `forge.name` or `forge.url` never chooses a server: the token
is only ever sent to the configured API.

Recording: the review workflow hands the event payload (GITHUB_EVENT_PATH) to `approve
--forge-review`; `review_from_event` turns an approving review into the forge part of an entry.

Checking: `checker_from_env` returns a Checker (None without a token or without a configured API)
that asks the forge's API whether
- the review exists, approves (not dismissed), is by that login and reviewed that commit
  (GET /repos/{repo}/pulls/{n}/reviews/{id}; Gitea / Forgejo: the same path under /api/v1), and
- the pull request changed the record's file (GET /repos/{repo}/pulls/{n}/files, every page);
verify then checks that the file's content at the reviewed commit has the entry's digest, so a
review proves exactly the files its pull request changed, as they were when reviewed. The same
Checker tells trusted time (jinqiu.trust.when) when the forge merged a pull request (merged_at).
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import re
import urllib.error
import urllib.parse
import urllib.request

GITHUB_API = "https://api.github.com"
NAMES = ("github", "gitea", "forgejo")
PAGE = {"github": ("per_page", 100), "gitea": ("limit", 50), "forgejo": ("limit", 50)}
MAX_PAGES = 60  # GitHub lists at most 3000 files of a pull request
MAX_BYTES = 16 << 20
TIMEOUT = 30  # seconds per request: a forge that does not answer fails the check, never hangs the build


class ForgeConfigError(Exception):
    """The forge configuration is unusable (message in Chinese)."""


def forge_name(env) -> str:
    """github, gitea or forgejo: JINQIU_FORGE when set, else what the Actions runner says it is."""
    name = str(env.get("JINQIU_FORGE") or "").strip().lower()
    if name:
        if name not in NAMES:
            raise ForgeConfigError(f"JINQIU_FORGE 应为 github、gitea 或 forgejo，不是 {name}")
        return name
    if env.get("FORGEJO_ACTIONS"):
        return "forgejo"
    if env.get("GITEA_ACTIONS"):
        return "gitea"
    return "github"


def api_base(env, forge: str) -> str | None:
    """The configured API address: JINQIU_FORGE_API_URL, else the runner's GITHUB_API_URL, else (GitHub
    only) api.github.com. None when a self-hosted forge's address is not configured."""
    url = str(env.get("JINQIU_FORGE_API_URL") or env.get("GITHUB_API_URL") or "").strip()
    if not url and forge == "github":
        url = GITHUB_API
    if not url:
        return None
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.netloc or parts.username or parts.password:
        raise ForgeConfigError(f"平台接口地址 {url} 无效：应为 https://主机/… 形式，不含账号密码")
    return url.rstrip("/")


def token_of(env) -> str | None:
    return env.get("JINQIU_FORGE_TOKEN") or env.get("GITHUB_TOKEN") or env.get("GITEA_TOKEN") or None


def review_from_event(payload: dict, forge: str) -> dict | None:
    """The approving review in a pull_request_review event payload, as the entry's `forge` object;
    None when the review does not approve. GitHub: review.state "approved"; Gitea / Forgejo send
    review.type "pull_request_review_approved". The forge's name is the configured one; no address
    is recorded (it comes from configuration when checking)."""
    review = payload.get("review") if isinstance(payload.get("review"), dict) else {}
    pr = payload.get("pull_request") if isinstance(payload.get("pull_request"), dict) else {}
    state = str(review.get("state") or review.get("type") or "").lower()
    if state not in ("approved", "pull_request_review_approved"):
        return None
    user = review.get("user") if isinstance(review.get("user"), dict) else payload.get("sender") or {}
    login = user.get("login") if isinstance(user, dict) else None
    commit = review.get("commit_id") or (pr.get("head") or {}).get("sha") or payload.get("commit_id")
    try:
        number = int(pr.get("number") or payload.get("number"))
        review_id = int(review["id"]) if review.get("id") else None
    except (TypeError, ValueError):
        return None
    return {"name": forge, "pull_request": number, "review_id": review_id, "login": login, "commit": commit}


def check_review(review, f: dict) -> tuple[bool, str]:
    """Does an API review object match the entry: approving, not dismissed, same login, same commit?"""
    if not isinstance(review, dict):
        return False, "平台返回的审阅不是预期的格式"
    state = str(review.get("state", "")).upper()
    if state != "APPROVED":
        return False, f"平台上这次审阅的状态是 {state or '未知'}，不是批准"
    if review.get("dismissed") is True:
        return False, "平台上这次批准已被撤销（dismissed）"
    login = (review.get("user") or {}).get("login") if isinstance(review.get("user"), dict) else None
    if login != f.get("login"):
        return False, f"平台上这次审阅的审阅人是 {login}，不是 {f.get('login')}"
    if review.get("commit_id") != f.get("commit"):
        return False, f"平台上这次审阅针对的提交是 {str(review.get('commit_id'))[:10]}，不是 {str(f.get('commit'))[:10]}"
    return True, ""


class Checker:
    """Asks one configured forge about reviews and pull requests, remembering each answer."""

    def __init__(self, forge: str, api: str, repo: str, token: str, opener=None):
        self.forge, self.api, self.repo, self.token = forge, api, repo, token
        self.opener = opener or urllib.request.urlopen
        self.reviews: dict = {}
        self.files: dict = {}
        self.merges: dict = {}

    def get(self, url: str):
        auth = f"Bearer {self.token}" if self.forge == "github" else f"token {self.token}"
        req = urllib.request.Request(url, headers={"Authorization": auth, "Accept": "application/json"})
        with self.opener(req, timeout=TIMEOUT) as resp:
            return json.loads(resp.read(MAX_BYTES).decode("utf-8"))

    def _pulls(self, n) -> str:
        return f"{self.api}/repos/{self.repo}/pulls/{int(n)}"

    def review(self, f: dict):
        key = (f.get("pull_request"), f.get("review_id"))
        if key not in self.reviews:
            self.reviews[key] = self._ask(lambda: self.get(f"{self._pulls(f['pull_request'])}/reviews/{int(f['review_id'])}"))
        return self.reviews[key]

    def changed_files(self, number) -> tuple[set | None, str]:
        """The paths the pull request changed (not removed), every page; (None, reason) on failure."""
        if number not in self.files:
            name, size = PAGE[self.forge]
            found: set = set()

            def fetch():
                for page in range(1, MAX_PAGES + 1):
                    items = self.get(f"{self._pulls(number)}/files?{name}={size}&page={page}")
                    if not isinstance(items, list):
                        raise ValueError("not a list")
                    for item in items:
                        if isinstance(item, dict) and item.get("status") not in ("removed", "deleted") and isinstance(item.get("filename"), str):
                            found.add(item["filename"])
                    if len(items) < size:
                        return found
                return found

            self.files[number] = self._ask(fetch)
        return self.files[number]

    def merged_at(self, commit: str) -> int | None:
        """When the forge merged the pull request whose merge commit this is (Unix seconds), by the
        forge's own record, which no committer writes; None when it did not (or cannot say).
        GitHub: GET /repos/{repo}/commits/{sha}/pulls (the pull requests associated with a commit);
        Gitea / Forgejo: GET /repos/{repo}/commits/{sha}/pull (the pull request merged as it)."""
        if commit not in self.merges:
            def fetch():
                if self.forge == "github":
                    found = self.get(f"{self.api}/repos/{self.repo}/commits/{commit}/pulls")
                else:
                    found = [self.get(f"{self.api}/repos/{self.repo}/commits/{commit}/pull")]
                for pr in found if isinstance(found, list) else []:
                    if isinstance(pr, dict) and pr.get("merge_commit_sha") == commit and isinstance(pr.get("merged_at"), str):
                        return int(dt.datetime.fromisoformat(pr["merged_at"].replace("Z", "+00:00")).timestamp())
                return None

            self.merges[commit] = self._ask(fetch)[0]
        return self.merges[commit]

    def _ask(self, call):
        try:
            return call(), ""
        except urllib.error.HTTPError as exc:
            return None, f"平台接口返回 HTTP {exc.code}"
        except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError, KeyError, TypeError) as exc:
            return None, f"无法访问平台接口 {self.api}：{exc}"

    def __call__(self, f: dict, path: str | None = None) -> tuple[bool, str]:
        """(ok, reason): the review approves, by that login, that commit; and the pull request
        changed path (the record's file, relative to the repository), when given."""
        if f.get("name") != self.forge and not {f.get("name"), self.forge} <= {"gitea", "forgejo"}:
            return False, f"审批条目写的平台是 {f.get('name')}，而本仓库配置的平台是 {self.forge}"
        if not isinstance(f.get("review_id"), int) or not isinstance(f.get("pull_request"), int):
            return False, "审批条目缺少合并请求编号或审阅编号"
        review, why = self.review(f)
        if review is None:
            return False, why
        ok, why = check_review(review, f)
        if not ok or path is None:
            return ok, why
        files, why = self.changed_files(f["pull_request"])
        if files is None:
            return False, why
        if path not in files:
            return False, f"合并请求 #{f['pull_request']} 没有改动 {path}：这次审阅不能证明这份申请"
        return True, ""


def find_review_id(env, f: dict, opener=None) -> int | None:
    """Gitea / Forgejo event payloads carry no review id: the newest approving review by that login
    of that commit, from the pull request's review list (on the configured forge)."""
    checker = checker_from_env(env, opener)
    if checker is None:
        return None
    try:
        reviews = checker.get(f"{checker._pulls(f['pull_request'])}/reviews")
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError, TypeError):
        return None
    if not isinstance(reviews, list):
        return None
    ids = [r.get("id") for r in reviews if isinstance(r, dict) and check_review(r, f)[0] and isinstance(r.get("id"), int)]
    return max(ids) if ids else None


def checker_from_env(env, opener=None) -> Checker | None:
    """A Checker for the configured forge, or None without a token, a repository or an API address."""
    token, repo = token_of(env), env.get("GITHUB_REPOSITORY")
    if not token or not repo:
        return None
    forge = forge_name(env)
    api = api_base(env, forge)
    if api is None:
        return None
    return Checker(forge, api, repo, token, opener)


def content_digest(repo, commit, path: str, digest_of) -> str | None:
    """The digest (digest_of(raw bytes)) of the file at path as it stood at the reviewed commit,
    read from the local history; None when the commit or the file is not there."""
    from . import gitlog

    if not isinstance(commit, str) or not re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", commit):
        return None
    try:
        raw = gitlog.git(repo, "cat-file", "blob", f"{commit}:{path}")
    except gitlog.GitError:
        return None
    return digest_of(raw)
