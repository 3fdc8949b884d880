"""What a user reads must be Chinese: find English words left in a command's output.

Code tokens are allowed: option names (--unit), choices (new, json), command names, file names and
paths (data/units.yaml, .xlsx), git and tool names, and a few acronyms. Everything else made of
Latin letters is an English word that leaked (usage:, options, error:, Traceback, found unexpected…).
"""

from __future__ import annotations

import re
from pathlib import Path

from jinqiu import cli

ROOT = Path(__file__).resolve().parent.parent

ALLOWED = {
    # acronyms and names of tools, formats and platforms a user meets by these names
    "csv", "xlsx", "xls", "pdf", "html", "yaml", "json", "ci", "test", "git", "gpg", "ssh", "ssh-keygen", "sha",
    "excel", "github", "gitea", "forgejo", "mkdocs", "python", "x", "yyyy-mm-dd", "yyyy-mm", "yyyy", "mm", "dd",
    "id", "codeowners", "tab", "bom", "utf-8", "gbk", "pull", "request", "ok",
    "alt", "enter", "md", "jinqiu", "markdown", "zensical", "chromium", "url", "approve", "reject", "true", "false",
    "age",  # the encryption tool and format (age-encryption.org) whose keys read age1…
}
# What a problem line is made of, by design: path:line: error: message (GCC style, for editors and CI).
_PROBLEM_PREFIX = re.compile(r"^[^\n]+?[:!]\d+: (error|warning): ", re.M)  # a sheet: 表名!行
_PATHISH = re.compile(r"(?<![\w-])(?:[\w.-]*[/\\][\w./\\*<>-]*|[\w-]*\.(?:ya?ml|xlsx|xls|csv|json|md|txt|pdf|html|py|sig)\b|--?[a-z][\w-]*|\$\w+|[a-z]+(?:[_.][a-z]+)+)")  # …, config keys (site_url, extra.repository)
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")


def code_tokens() -> set:
    """Every command name, option and choice of build.py: these are typed as they are."""
    out = set(cli.COMMANDS)
    top = cli.parser()
    parsers = [top]
    for action in top._actions:
        if getattr(action, "choices", None) and isinstance(action.choices, dict):
            parsers.extend(action.choices.values())
    for p in parsers:
        for action in p._actions:
            out.update(action.option_strings)
            for choice in action.choices or ():
                if isinstance(choice, str):
                    out.add(choice)
    units = (ROOT / "data" / "units.yaml").read_text(encoding="utf-8")
    out.update(re.findall(r"(?m)^- id: (\S+)$", units))  # the sample data's union codes (dl, dl-zs-0003…)
    return {t.lower() for t in out}


def english_words(text: str, extra: set = frozenset()) -> list[str]:
    """The Latin-letter words of a text that are not code tokens."""
    allowed = ALLOWED | code_tokens() | {e.lower() for e in extra}
    text = _PROBLEM_PREFIX.sub("", text)
    text = _PATHISH.sub(" ", text)
    found = []
    for word in _WORD.findall(text):
        w = word.strip("'-").lower()
        if w and w not in allowed and not re.fullmatch(r"[a-z]{1,3}(-[a-z0-9]+)+", w):  # union codes: dl-zs-0001
            found.append(word)
    return found
