"""`build.py build` (also `python build.py` with no command): check, then publish."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from ..check import ids
from ..publish import pipeline
from ..problems import UserError, has_errors, report
from .common import add_data_argument, data_dir

HELP = "校验并生成全部输出：公开网站（site/）、表格和统计表（private/，不公开）"


def add_arguments(p) -> None:
    add_data_argument(p)
    p.add_argument("--out", default=".", metavar="目录", help="输出目录：网站写到 目录/site，表格写到 目录/private（默认当前目录）")
    p.add_argument("--as-of", metavar="日期|提交", help="按仓库在某日（YYYY-MM-DD，当日最后一次提交）或某次提交时的数据生成")
    p.add_argument("--year", type=int, help="活动年度（默认最近的年度）")
    p.add_argument("--today", metavar="YYYY-MM-DD", help="计算剩余天数和公示期所用的日期（默认今天）")
    p.add_argument("--allow-invalid", action="store_true", help="数据有错误时仍然生成，未通过校验的记录不纳入")
    p.add_argument("--no-forms", action="store_true", help="不生成打印表格")
    p.add_argument("--no-pdf", action="store_true", help="只生成 HTML 表格，不生成 PDF")
    p.add_argument("--no-cache", action="store_true", help="不使用缓存：全部重新校验、核验、生成，每份表格都重新打印")
    p.add_argument("--site-url", metavar="URL", help="网站的发布地址（覆盖 mkdocs.yml 的 site_url；发布在子路径下时必须设置）")
    p.add_argument("--keyed", action="store_true",
                   help="加密保存个人信息的仓库：在持有市总工会密钥的构建机上解密，核对个人信息、生成公示名单和打印表格，并按数据本身的个人信息扫描网站")
    from .keys import add_key_arguments

    add_key_arguments(p)
    p.add_argument("--repo-url", metavar="URL", help="仓库的网页地址，网站上告诉公众到哪里核验（覆盖 mkdocs.yml 的 extra.repository）")


def _iso(text: str, what: str) -> str:
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text or ""):
        raise UserError(f"{what} 应为 YYYY-MM-DD 格式的日期：{text}")
    try:
        date.fromisoformat(text)
    except ValueError:
        raise UserError(f"{what} 不是有效日期：{text}") from None
    return text


def _url(text: str | None, what: str) -> str | None:
    """An http(s) address, or None when not given (an empty value means: not configured)."""
    if not text:
        return None
    if not re.fullmatch(r"https?://[^\s\"'<>`]+", text):
        raise UserError(f"{what} 应为 http:// 或 https:// 开头的网址：{text}")
    return text


def run(args, out, err) -> int:
    from ..check import validate

    try:
        return _run(args, out, err)
    finally:
        validate.reset_tiers()  # the keyed tier and the tags are this run's only


def _keyed(args, root: Path, err) -> bool:
    """Set up the keyed tier for --keyed (failing closed without a key); say what a keyless build of a
    sealed repository leaves out. Returns whether the printed forms can be made."""
    from ..check import validate
    from ..records import sealed

    try:
        cfg = sealed.load_config(root)
    except sealed.ConfigError as exc:
        raise UserError(str(exc)) from None
    from .keys import set_tiers

    bad_tags = set_tiers(args, root, args.data, args.keyed, "build --keyed ") if cfg is not None or args.keyed else []
    if bad_tags:
        from ..problems import report

        report(bad_tags, "text", err, err)
        raise UserError("查重标记的签名不对，没有构建（见上）")
    if args.keyed:
        args.no_cache = True  # keyed results are never cached, nor taken from a keyless run's cache
        return True
    if cfg is not None:
        err.write(f"本市自 {cfg.since} 年度起加密保存个人信息；这是不用密钥的构建：个人信息的核对、公示名单中的姓名、打印表格"
                  "和按数据本身个人信息的网站扫描，只在持有市总工会密钥的构建机上用 build --keyed 完成，这里没有做。\n")
        return False
    return True


def _run(args, out, err) -> int:
    root = data_dir(args)
    forms_ok = _keyed(args, root, err)
    if not forms_ok:
        args.no_forms = True
    today = _iso(args.today, "--today") if args.today else date.today().isoformat()
    opts = pipeline.Options(data=root, out=Path(args.out), today=today, allow_invalid=args.allow_invalid,
                           pdf=not args.no_pdf, forms=not args.no_forms, year=args.year,
                           cache=not args.no_cache,
                           site_url=_url(args.site_url, "--site-url"), repo_url=_url(args.repo_url, "--repo-url"))
    try:
        if args.as_of:
            with pipeline.temp_dir() as tmp:
                opts.data, commit, day = pipeline.checkout_data(root, args.as_of, Path(tmp))
                opts.today = today if args.today else day
                opts.commit, opts.as_of = commit, day
                result = pipeline.build(opts)
        else:
            result = pipeline.build(opts)
    except pipeline.BuildError as exc:
        err.write(f"错误：{exc}\n")
        return 1
    if "unchanged" in result.timings:
        err.write("数据、代码和选项都与上次构建相同，输出也未被改动：沿用上次的结果（加 --no-cache 可强制全部重建）。\n")
    if result.problems or result.left_out:
        report(result.problems, "text", out, err)
    if result.site_dir is None:
        err.write("数据有错误，未生成网站。修正后重试，或用 --allow-invalid 跳过有错误的记录。\n")
        return 1
    for path in result.left_out:
        err.write(f"{path}:1: warning: 未通过校验，本次发布未纳入\n")
    if result.unscannable:
        shown = "、".join(sorted(ids.mask_name(v) for v in result.unscannable)[:5])
        err.write(f"注意：{len(result.unscannable)} 个姓名或住址恰好是网站固定文字的一部分（{shown}），"
                  "无法与固定文字区分，扫描时不查找它们；公开网站只读取标记为公开的字段。\n")
    if result.findings:
        for finding in result.findings:
            out.write(finding.text() + "\n")
        err.write(f"公开网站中发现 {len(result.findings)} 处个人信息，构建失败；不要发布 {result.site_dir}。\n")
        return 1
    printed = result.printed
    if printed is not None and printed.cache_refused:
        err.write(f"注意：打印缓存不可用（{printed.cache_refused}），每份表格都已重新打印。\n")
    pdfs = f"，PDF {printed.pages} 页：新打印 {printed.printed} 份，{printed.reused} 份未改动沿用" if printed else ""
    err.write(f"网站：{result.site_dir}  表格：{result.private_dir / 'forms'}（{len(result.forms)} 个工会{pdfs}）\n")
    return 1 if has_errors(result.problems) else 0  # an approval that fails verify does not count, and says so
