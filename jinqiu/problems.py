"""A problem found in the data is a value; one reporter prints them all."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with one place in one file."""

    path: str
    line: int
    pointer: str
    code: str
    message: str
    severity: str = ERROR

    def text(self) -> str:
        return f"{self.path}:{self.line}: {self.severity}: {self.message}"

    def github(self) -> str:
        kind = "error" if self.severity == ERROR else "warning"
        message = self.message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        return f"::{kind} file={self.path},line={self.line},title={self.code}::{message}"

    def as_dict(self) -> dict:
        return asdict(self)


def has_errors(problems) -> bool:
    return any(p.severity == ERROR for p in problems)


def summary(problems) -> str:
    errors = sum(1 for p in problems if p.severity == ERROR)
    warnings = len(problems) - errors
    return f"{errors} 个错误，{warnings} 个警告"


def report(problems, fmt: str, out, err) -> None:
    """Print every problem in one format (text, json or github), then a count on stderr."""
    problems = sorted(problems)
    if fmt == "json":
        json.dump([p.as_dict() for p in problems], out, ensure_ascii=False, indent=1)
        out.write("\n")
    elif fmt == "github":
        for p in problems:
            out.write(p.github() + "\n")
    else:
        for p in problems:
            out.write(p.text() + "\n")
    err.write(summary(problems) + "\n")


class UserError(Exception):
    """A mistake in how a command was called (a missing directory, a bad option value): the command
    line prints it as one line and exits 2."""
