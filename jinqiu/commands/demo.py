"""`build.py demo`: build a sample repository whose approvals are real signed commits (TEST keys
made on the spot), then verify it, to show what verify proves."""

from __future__ import annotations

import tempfile
from collections import Counter
from pathlib import Path

from ..sample import demo
from ..trust import verify
from ..problems import UserError, has_errors, report
from .common import shown

HELP = "演示：用临时生成的测试密钥（TEST，仅供演示）把样例数据的审批重放为签名提交，再核验"


def add_arguments(p) -> None:
    p.add_argument("--data", default="data", metavar="目录", help="样例数据目录（默认 ./data）")
    p.add_argument("--out", metavar="目录", help="演示仓库放在这里（默认临时目录，用完删除）")
    p.add_argument("--limit", type=int, metavar="数量", help="只取前若干份申请（加快演示）")
    p.add_argument("--site", action="store_true",
                   help="再用演示仓库生成网站（放在 --out 目录的 site/ 下）：逐日进展、是否按时都按重放的签名历史计算")
    p.add_argument("--today", metavar="YYYY-MM-DD", help="与 --site 一起用：计算剩余天数所用的日期（默认今天）")
    p.add_argument("--sealed", action="store_true",
                   help="个人信息加密保存的样例：用临时生成的测试加密密钥（TEST）加密后再重放；须与 --out 一起用，"
                        "密钥仓库和各人的测试私钥放在 --out 目录里（docs/sealing.md“试一试”）")


def run(args, out, err) -> int:
    data = Path(args.data)
    if not (data / "reviewers.yaml").is_file() or not (data / "units.yaml").is_file():
        raise UserError(f"{args.data} 中没有 units.yaml 和 reviewers.yaml，无法演示")
    holder = None
    if args.site and not args.out:
        raise UserError("--site 须与 --out 一起用：网站写在 --out 目录的 site/ 下")
    if args.sealed and not args.out:
        raise UserError("--sealed 须与 --out 一起用：测试密钥和密钥仓库放在 --out 目录里，演示后还要用")
    if args.today and not args.site:
        raise UserError("--today 只能与 --site 一起用")
    if args.today:
        from datetime import date

        try:
            date.fromisoformat(args.today)
        except ValueError:
            raise UserError(f"--today：日期 {args.today} 应写成 2011-09-01 这样（年-月-日）") from None
    if args.out:
        target = Path(args.out).resolve()  # git runs in the demo repository: its key paths must not be relative
        if target.exists() and (not target.is_dir() or any(target.iterdir())):
            raise UserError(f"{args.out} 已存在且不是空目录")
    else:
        holder = tempfile.TemporaryDirectory(prefix="jinqiu-demo-")
        target = Path(holder.name)
    try:
        if args.sealed:
            from ..sample import sealed as sealed_sample

            made = sealed_sample.sealed_sample(data, target, limit=args.limit, log=lambda m: err.write(m + "\n"))
            lab = made["lab"]
        else:
            lab = demo.build_sample(data, target, limit=args.limit, log=lambda m: err.write(m + "\n"))
        statuses, problems = verify.run(lab.repo, lab.data, display_root="data", use_cache=False)
        report(problems, "text", out, err)
        counts = Counter(s.label for s in statuses.values())
        out.write(f"演示仓库：{'临时目录（已删除）' if holder else shown(lab.repo)}\n")
        out.write(f"签名提交数：{lab.git('rev-list', '--count', 'HEAD')}；核验后的状态：\n")
        for label, n in sorted(counts.items(), key=lambda kv: -kv[1]):
            out.write(f"  {label}：{n}\n")
        if has_errors(problems):
            return 1
        if args.sealed:
            out.write(f"个人信息已加密保存（自 {made['since']} 年度起）：密钥仓库 {shown(made['keys'])}，测试私钥（TEST，人人可得，"
                      f"不得用于真实数据）在 {shown(made['identities'])}：build 是市总工会构建机的，其余按审核人编号。\n")
        if args.site:
            return _site(lab, target, args.today, out, err)
        return 0
    finally:
        if holder:
            holder.cleanup()


def _site(lab, target: Path, today: str | None, out, err) -> int:
    """The public site of the demo repository, as `build` makes it (no printed forms)."""
    from datetime import date

    from ..publish import pipeline

    opts = pipeline.Options(data=lab.data, out=target, today=today or date.today().isoformat(), forms=False, pdf=False)
    try:
        result = pipeline.build(opts)
    except pipeline.BuildError as exc:
        err.write(f"错误：{exc}\n")
        return 1
    if result.site_dir is None or result.findings:
        err.write("演示网站没有生成（见上面的问题）。\n")
        return 1
    out.write(f"演示网站：{result.site_dir / 'index.html'}（逐日进展按重放的签名历史计算）\n")
    return 0
