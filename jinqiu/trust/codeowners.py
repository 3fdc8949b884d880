"""CODEOWNERS from the unions and the reviewer registry, so the forge asks the right people, in the
two forms the forges read:

- GitHub: `.github/CODEOWNERS`, gitignore-style patterns, the LAST matching line wins.
- Gitea / Forgejo: `.gitea/CODEOWNERS` (read when there is no ./CODEOWNERS or ./docs/CODEOWNERS),
  each rule a Go regular expression matched against the whole path (`^rule$`, no leading slash);
  EVERY matching rule adds its owners; in the file a backslash escapes the next character, so a
  regex `\\.` is written `\\\\.`.

Each grassroots union's application and graduate folders are owned by every reviewer (by their
forge login) of the levels that approve them: its own level 1, its parent's level 2 and the city's
level 3. The city's administrators (or, when none has a login on that forge, every city-level
reviewer) own everything that decides how a pull request is judged: the code, the schemas, the
workflows, the trust data (the registry, the unions, the campaigns, the root of trust), and what
installs and builds it.
"""

from __future__ import annotations

from . import registry

HEADER = ("# 由 `python build.py codeowners` 根据 units.yaml 和 reviewers.yaml 生成，请勿手工修改。\n"
          "# Generated from the unions and the reviewer registry; CI fails when it is out of date.\n")
FORGES = ("github", "gitea")
TARGETS = {"github": ".github/CODEOWNERS", "gitea": ".gitea/CODEOWNERS"}

# paths relative to the repository: (path, is a directory)
CITY_OWNED = [("jinqiu", True), ("build.py", False), ("schemas", True), (".github", True), (".gitea", True), (".forgejo", True),
              (".jinqiu-version", False), ("docs", True),
              ("setup.sh", False), ("requirements.txt", False), ("requirements-dev.txt", False),
              ("packages-debian.txt", False), ("package.json", False), ("package-lock.json", False),
              ("mkdocs.yml", False), ("site_src", True), ("site_theme", True)]
CITY_OWNED_DATA = [("reviewers.yaml", False), ("units.yaml", False), ("campaigns", True), (registry.ROOT_FILE, False)]


def login_of(r: dict, forge: str) -> str | None:
    """A reviewer's account on a forge (Gitea's form serves Forgejo too)."""
    return _login(r, forge)


def _login(r: dict, forge: str) -> str | None:
    logins = r.get("forge_logins") or {}
    if forge == "gitea":
        return logins.get("gitea") or logins.get("forgejo")
    return logins.get(forge)


def _logins(reviewers: dict, unit: str | None, level: int, forge: str) -> list[str]:
    return sorted(f"@{_login(r, forge)}" for r in reviewers.values()
                  if r.get("unit") == unit and r.get("level") == level and _login(r, forge))


def city_owners(reviewers: dict, forge: str) -> list[str]:
    admins = sorted(f"@{_login(r, forge)}" for r in reviewers.values() if r.get("admin") is True and _login(r, forge))
    return admins or sorted(f"@{_login(r, forge)}" for r in reviewers.values() if r.get("level") == 3 and _login(r, forge))


def go_regex_quote(text: str) -> str:
    """A literal for Go's regexp syntax."""
    return "".join("\\" + c if c in ".+*?()|[]{}^$\\" else c for c in text)


def gitea_escape(rule: str) -> str:
    """A rule as written in Gitea's CODEOWNERS: backslash, # and space escaped with a backslash."""
    return "".join("\\" + c if c in "\\# " else c for c in rule)


def _pattern(path: str, is_dir: bool, forge: str) -> str:
    if forge == "github":
        return "/" + path + ("/" if is_dir else "")
    return gitea_escape(go_regex_quote(path) + ("/.*" if is_dir else ""))


def render(units: dict, reviewers: dict, data_prefix: str = "data", forge: str = "github") -> str:
    """The CODEOWNERS text for one forge (deterministic: unions in id order)."""
    prefix = data_prefix.strip("/")
    join = (lambda rel: f"{prefix}/{rel}") if prefix else (lambda rel: rel)
    lines = [HEADER]
    for uid in sorted(units):
        if units[uid].get("kind") not in registry.LEVEL_UNIT_KINDS[1]:
            continue
        owners = []
        for level in (1, 2, 3):
            owners += _logins(reviewers, registry.reviewer_unit_for(level, uid, units), level, forge)
        if not owners:
            continue
        for kind in ("applications", "graduates"):
            if forge == "github":
                lines.append(f"/{join(kind)}/*/{uid}/ {' '.join(owners)}")
            else:
                rule = go_regex_quote(join(kind)) + "/[^/]+/" + go_regex_quote(uid) + "/.*"
                lines.append(f"{gitea_escape(rule)} {' '.join(owners)}")
    city = city_owners(reviewers, forge)
    lines.append("")
    lines.append("# 市总工会负责：代码、数据结构、工作流、信任数据（审核人登记、工会、活动、信任根）和安装构建文件")
    if not city:
        lines.append(f"# 警告：没有市总工会审核人登记了 {forge} 账号，以下文件无人负责")
        return "\n".join(lines) + "\n"
    for path, is_dir in [(join(p), d) for p, d in CITY_OWNED_DATA] + CITY_OWNED:
        lines.append(f"{_pattern(path, is_dir, forge)} {' '.join(city)}")
    return "\n".join(lines) + "\n"


# ---- reading the Gitea form back, exactly as Gitea does (for --check and the tests) ----------

def gitea_tokens(line: str) -> list[str]:
    """Gitea's TokenizeCodeOwnersLine: backslash escapes, # ends the line, spaces separate."""
    tokens, token, escape = [], "", False
    for c in line.strip().replace("\t", " "):
        if escape:
            token, escape = token + c, False
        elif c == "\\":
            escape = True
        elif c == "#":
            break
        elif c == " ":
            if token:
                tokens.append(token)
                token = ""
        else:
            token += c
    if token:
        tokens.append(token)
    return tokens


def gitea_owners(text: str, path: str) -> set[str]:
    """Every owner Gitea would ask to review a change to path (all matching rules count)."""
    import re

    found = set()
    for line in text.split("\n"):
        tokens = gitea_tokens(line)
        if len(tokens) < 2:
            continue
        negative = tokens[0].startswith("!")
        if bool(re.fullmatch(tokens[0].removeprefix("!"), path)) != negative:
            found.update(t.removeprefix("@") for t in tokens[1:])
    return found
