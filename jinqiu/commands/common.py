"""Options and look-ups shared by the data commands (import, export, new, renewals, fmt)."""

from __future__ import annotations

from pathlib import Path

from .. import dataset
from ..cli import UserError
from .validate import add_data_argument, data_dir  # noqa: F401  (re-exported)


def load_units(root: Path, display_root: str) -> dict | None:
    """{id: unit} from units.yaml, or None when the data has no units.yaml."""
    if not (root / "units.yaml").is_file():
        return None
    record, problems = dataset.read_one(root, display_root, "units.yaml")[:2]
    if record.data is None:
        raise UserError(f"无法读取 units.yaml：{problems[0].message if problems else ''}")
    return {u["id"]: u for u in record.data.get("units", []) if isinstance(u, dict) and isinstance(u.get("id"), str)}


def load_campaign(root: Path, display_root: str, year: int) -> dict | None:
    rel = f"campaigns/{year}.yaml"
    if not (root / rel).is_file():
        return None
    record, problems = dataset.read_one(root, display_root, rel)[:2]
    return record.data
