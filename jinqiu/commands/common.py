"""Options and look-ups shared by the commands (import, export, new, renewals, fmt, approve, todo, history, verify)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from ..check import unitref
from ..records import dataset
from ..trust import forge
from ..problems import UserError


def add_data_argument(p) -> None:
    p.add_argument("--data", default="data", metavar="目录", help="数据目录（默认 ./data）")


def shown(path: Path | str) -> str:
    """A path as a person types it where the command runs, as every message shows paths: as given
    when relative; relative to the current directory (data/…, ../.github/CODEOWNERS) when it lies
    below it or in the same repository; otherwise as it is."""
    path = Path(path)
    if not path.is_absolute():
        return path.as_posix()
    cwd = Path.cwd()
    rel = Path(os.path.relpath(path, cwd))
    if rel.parts[:1] != ("..",):
        return rel.as_posix()
    from ..trust import gitlog

    repo = gitlog.toplevel(cwd)
    if repo is not None and path.resolve().is_relative_to(repo.resolve()):
        return rel.as_posix()
    return str(path)


def data_dir(args) -> Path:
    root = Path(args.data)
    if not root.is_dir():
        raise UserError(f"数据目录 {args.data} 不存在或不是目录")
    return root


def forge_checker():
    """The configured forge's review checker (None without a token); a bad configuration is the user's to fix."""
    try:
        return forge.checker_from_env(os.environ)
    except forge.ForgeConfigError as exc:
        raise UserError(str(exc)) from None


def verified_statuses(root: Path, display_root: str, ds) -> tuple[dict, list]:
    """verify.run over an already loaded dataset, with its cache and the configured forge."""
    from ..trust import verify

    return verify.run(None, root, display_root=display_root, dataset=ds, use_cache=True, forge_checker=forge_checker())


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


def resolve_unit(units: dict | None, text: str | None, option: str = "--unit") -> str | None:
    """The code of the union typed (a code or a name); a usage error naming the nearest when unknown."""
    if text is None or units is None:
        return text
    try:
        return unitref.UnitIndex(units).resolve(text)
    except unitref.UnknownUnit as exc:
        raise UserError(f"{option}：{exc}") from None


def filing_date(args_date: str | None, campaign: dict | None, year: int, today) -> tuple[str, str | None]:
    """(填表日期, a note to show) for a record of the campaign year: --date when given; today while
    it is that campaign's year (never before the campaign starts); otherwise the campaign's first day,
    with a note, so that a record made for another year never carries today's clock."""
    from datetime import date

    if args_date:
        try:
            return date.fromisoformat(args_date).isoformat(), None
        except ValueError:
            raise UserError(f"--date：日期 {args_date} 应写成 {year}-08-01 这样（年-月-日，月和日各两位）") from None
    campaign = campaign or {}
    start = campaign.get("starts_on") if isinstance(campaign.get("starts_on"), str) else None
    if today.year == year:
        day = today.isoformat()
        return (max(day, start) if start else day), None
    day = start or campaign.get("materials_due") or f"{year}-07-01"
    return day, f"填表日期暂定为 {day}（{year} 年度活动开始的日子）；请改成纸质表上的填表日期，或用 --date 指明"


def confirm(out, question: str) -> bool:
    """Ask on the terminal; True only for a yes (y, yes, 是, 确认)."""
    out.write(question)
    out.flush()
    try:
        answer = sys.stdin.readline()
    except (OSError, ValueError):  # no terminal to ask
        answer = ""
    out.write("\n")
    return answer.strip().lower() in ("y", "yes", "是", "确认")


def sealing_config(root: Path, display: str, clear: str | None = None):
    """data/sealing.yaml as read (None: the city keeps its records in clear); a file that cannot be read
    is a UserError naming it. With clear, a city in clear is a UserError too: 数据目录…中没有加密设置
    sealing.yaml：<clear>."""
    from ..records import sealed

    try:
        cfg = sealed.load_config(root)
    except sealed.ConfigError as exc:
        raise UserError(str(exc)) from None
    if cfg is None and clear is not None:
        raise UserError(f"数据目录 {display} 中没有加密设置 sealing.yaml：{clear}")
    return cfg
