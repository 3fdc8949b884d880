"""`build.py validate`: check every record and report every problem."""

from __future__ import annotations

from pathlib import Path

from ..check import validate
from ..problems import UserError, has_errors, report, summary
from .common import add_data_argument, data_dir, load_units, resolve_unit

HELP = "校验数据目录中的全部记录（结构、身份证号码、金额、重复资助、截止日期、引用）"


def add_arguments(p) -> None:
    add_data_argument(p)
    p.add_argument("--format", choices=("text", "json", "github"), default="text", help="输出格式（默认 text）")
    p.add_argument("--no-cache", action="store_true", help="不使用缓存，全部重新校验")
    p.add_argument("--unit", metavar="工会", help="只报告此工会（编号或名称）及其下属工会的文件中的问题")
    p.add_argument("--keyed", action="store_true",
                   help="同时核对加密保存的个人信息（身份证号码、电话、收入、重复资助等），须有密钥：只在市总工会的构建机上运行")
    from .keys import add_key_arguments

    add_key_arguments(p)
    p.add_argument("--changed-since", metavar="提交",
                   help="合并请求用：只检查相对该提交（与当前提交的共同祖先）改动的文件和可能与之冲突的文件，"
                        "报告改动文件中的全部问题和其他文件中的错误（前提是该提交已通过全部校验）")


def run(args, out, err) -> int:
    try:
        return _run(args, out, err)
    finally:
        validate.reset_tiers()  # the keyed tier and the tags are this run's only


def _run(args, out, err) -> int:
    from .keys import set_tiers

    root = data_dir(args)
    tag_problems = set_tiers(args, root, args.data, args.keyed, "validate --keyed ")
    if args.keyed:
        args.no_cache = True  # the keyed tier's results are never cached, nor taken from the keyless cache
    scope = _scope(root, args, err) if getattr(args, "changed_since", None) else None
    if scope is not None:
        (problems, files), cached = validate.scoped(root, args.data, scope), False
    else:
        problems, files, cached = validate.problems(root, args.data, use_cache=not args.no_cache)
    problems = sorted(set(problems) | set(tag_problems))
    elsewhere = []
    if args.unit:
        problems, elsewhere = _of_unit(root, args.data, args.unit, problems)
    report(problems, args.format, out, err)
    if scope is not None:
        err.write(f"按改动范围校验：相对 {scope.base[:10]} 改动了 {len(scope.changed)} 个文件，"
                  f"连同可能与之相关的 {len(scope.related)} 个文件以及工会名单、审核人登记和活动文件，共校验 {files} 个文件。\n")
    else:
        err.write(f"共校验 {files} 个文件{'（内容未变，结果取自缓存）' if cached else ''}。\n")
    if not args.keyed:
        _say_keyless(root, err)
        _say_tags(err)
    if elsewhere:
        err.write(f"其他工会的文件和公共文件另有 {summary(elsewhere)}，未列出（去掉 --unit 可看全部）。\n")
    return 1 if has_errors(problems) else 0


def _scope(root: Path, args, err):
    """The pull request's scope (prscope.build), or None after saying why the whole tree is checked."""
    from ..trust import prscope

    try:
        return prscope.build(root, args.changed_since, chains=False)
    except prscope.FullRun as exc:
        err.write(f"全部校验：{exc}。\n")
        return None


def _of_unit(root: Path, display_root: str, unit: str, problems: list) -> tuple[list, list]:
    """(the problems in files of the union and the unions below it, the others)."""
    from ..check import unitref
    from ..records import layout

    units = load_units(root, display_root)
    if units is None:
        raise UserError(f"数据目录 {display_root} 中没有工会名单 units.yaml，无法按工会筛选")
    keep = unitref.UnitIndex(units).below(resolve_unit(units, unit))
    prefix = "" if display_root in ("", ".") else display_root.rstrip("/") + "/"
    mine, others = [], []
    for p in problems:
        rel = p.path[len(prefix):] if p.path.startswith(prefix) else p.path
        _, match = layout.classify(rel)
        parts = match.groupdict() if match else {}
        (mine if parts.get("unit") in keep else others).append(p)
    return mine, others


def _say_keyless(root: Path, err) -> None:
    """In a sealed repository, say that the checks of the sealed values were not made here."""
    from ..records import sealed

    try:
        cfg = sealed.load_config(root)
    except sealed.ConfigError:
        return
    if cfg is not None:
        err.write(f"本市自 {cfg.since} 年度起加密保存个人信息：以上是不需要密钥的检查；身份证号码、电话、收入和重复资助"
                  "由市总工会构建机上的 validate --keyed 核对。\n")


def _say_tags(err) -> None:
    """Which years' duplicate tags the run used (a sealed repository's keyless duplicate check)."""
    from ..check import validate

    tags = validate.TAGS
    if tags is not None and tags.years:
        err.write("查重标记（构建机签名）：" + "；".join(
            f"{y} 年度 {len(t.get('records') or {})} 份记录，{t.get('made_on')} 算出" for y, t in sorted(tags.years.items()))
                  + "。之后新增或改动的加密记录要等构建机重新算出标记，才能在这里查重。\n")
