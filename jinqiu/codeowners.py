"""CODEOWNERS from the unions and the reviewer registry, so the forge asks the right people.

Each grassroots union's application and graduate folders are owned by every reviewer (by their
GitHub login) of the levels that approve them: its own level 1, its parent's level 2 and the city's
level 3; the registry and the unions are owned by the city's administrators.
"""

from __future__ import annotations

from . import registry

HEADER = ("# 由 `python build.py codeowners` 根据 units.yaml 和 reviewers.yaml 生成，请勿手工修改。\n"
          "# Generated from the unions and the reviewer registry; CI fails when it is out of date.\n")


def _logins(reviewers: dict, unit: str | None, level: int, forge: str) -> list[str]:
    return sorted(f"@{r['forge_logins'][forge]}" for r in reviewers.values()
                  if r.get("unit") == unit and r.get("level") == level and (r.get("forge_logins") or {}).get(forge))


def render(units: dict, reviewers: dict, data_prefix: str = "data", forge: str = "github") -> str:
    """The CODEOWNERS text (deterministic: unions in id order)."""
    base = "/" + data_prefix.strip("/") + "/" if data_prefix.strip("/") else "/"
    lines = [HEADER]
    admins = sorted(f"@{r['forge_logins'][forge]}" for r in reviewers.values()
                    if r.get("admin") is True and (r.get("forge_logins") or {}).get(forge))
    for uid in sorted(units):
        if units[uid].get("kind") not in registry.LEVEL_UNIT_KINDS[1]:
            continue
        owners = []
        for level in (1, 2, 3):
            owners += _logins(reviewers, registry.reviewer_unit_for(level, uid, units), level, forge)
        if owners:
            for kind in ("applications", "graduates"):
                lines.append(f"{base}{kind}/*/{uid}/ {' '.join(owners)}")
    if admins:
        lines.append(f"{base}reviewers.yaml {' '.join(admins)}")
        lines.append(f"{base}units.yaml {' '.join(admins)}")
        lines.append(f"/{registry.ROOT_FILE} {' '.join(admins)}")
        lines.append(f"/.github/ {' '.join(admins)}")
    return "\n".join(lines) + "\n"
