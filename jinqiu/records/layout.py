"""Where each kind of record lives in a data tree, and which schema it follows."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas"

# kind -> (schema file, path pattern relative to the data directory)
KINDS = {
    "units": ("units.schema.json", re.compile(r"^units\.yaml$")),
    "reviewers": ("reviewers.schema.json", re.compile(r"^reviewers\.yaml$")),
    "sealing": ("sealing.schema.json", re.compile(r"^sealing\.yaml$")),
    "campaign": ("campaign.schema.json", re.compile(r"^campaigns/(?P<year>[0-9]{4})\.yaml$")),
    "application": (
        "application.schema.json",
        re.compile(r"^applications/(?P<year>[0-9]{4})/(?P<unit>[a-z0-9-]+)/(?P<id>[a-z0-9-]+)\.yaml$"),
    ),
    "graduate": (
        "graduate.schema.json",
        re.compile(r"^graduates/(?P<year>[0-9]{4})/(?P<unit>[a-z0-9-]+)/(?P<id>[a-z0-9-]+)\.yaml$"),
    ),
    "report": ("report.schema.json", re.compile(r"^reports/(?P<year>[0-9]{4})/(?P<unit>[a-z0-9-]+)\.yaml$")),
    "tags": ("tags.schema.json", re.compile(r"^tags/(?P<year>[0-9]{4})\.yaml$")),
}

EXPECTED_LAYOUT = (
    "units.yaml, reviewers.yaml, sealing.yaml, campaigns/<年度>.yaml, applications/<年度>/<工会编号>/<编号>.yaml, "
    "graduates/<年度>/<工会编号>/<编号>.yaml, reports/<年度>/<工会编号>.yaml, tags/<年度>.yaml"
)


def classify(relpath: str):
    """Return (kind, match) for a path relative to the data directory, or (None, None)."""
    for kind, (_, pattern) in KINDS.items():
        m = pattern.match(relpath)
        if m:
            return kind, m
    return None, None


@lru_cache(maxsize=None)
def schema(kind: str) -> dict:
    """The JSON Schema of a kind of record, read once."""
    return json.loads((SCHEMA_DIR / KINDS[kind][0]).read_text(encoding="utf-8"))


@lru_cache(maxsize=None)
def stored_schema(kind: str) -> dict:
    """The schema of a sealed record of this kind as stored: each personal leaf an ENC[jq1,…] envelope."""
    from . import sealed

    return sealed.stored_schema(schema(kind))


@lru_cache(maxsize=None)
def sealed_pointers(kind: str) -> tuple:
    """The JSON pointers a sealed record of this kind holds as envelopes (read once)."""
    from . import sealed

    return sealed.personal_pointers(schema(kind))


def schema_for(kind: str, tree) -> dict:
    """The schema a stored record follows: the sealed form when it carries a `sealed:` block."""
    if kind in ("application", "graduate") and isinstance(tree, dict) and isinstance(tree.get("sealed"), dict):
        return stored_schema(kind)
    return schema(kind)


def application_path(year: int, unit: str, record_id: str) -> str:
    return f"applications/{year}/{unit}/{record_id}.yaml"


def graduate_path(year: int, unit: str, record_id: str) -> str:
    return f"graduates/{year}/{unit}/{record_id}.yaml"


def report_path(year: int, unit: str) -> str:
    return f"reports/{year}/{unit}.yaml"


def _resolve(node: dict, root: dict) -> dict:
    ref = node.get("$ref")
    if ref and ref.startswith("#/$defs/"):
        return root["$defs"][ref[len("#/$defs/"):]]
    return node


def field(kind: str, pointer: str) -> dict:
    """The schema node for a JSON pointer into a record of this kind ({} when unknown)."""
    root = schema(kind)
    node = root
    for part in [p for p in pointer.split("/") if p]:
        node = _resolve(node, root)
        if "properties" in node and part in node["properties"]:
            node = node["properties"][part]
        elif "items" in node and part.isdigit():
            node = node["items"]
        elif isinstance(node.get("additionalProperties"), dict):
            node = node["additionalProperties"]
        else:
            return {}
    return _resolve(node, root)


def label(kind: str, pointer: str) -> str:
    """The Chinese label (the schema's title) of a field, for messages, forms and docs."""
    node = field(kind, pointer)
    if node.get("title"):
        return node["title"]
    parts = [p for p in pointer.split("/") if p]
    return parts[-1] if parts else "记录"


def property_order(node: dict, root: dict) -> list[str]:
    node = _resolve(node, root)
    return list(node.get("properties", {}))
