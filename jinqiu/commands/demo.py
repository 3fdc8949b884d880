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


def run(args, out, err) -> int:
    data = Path(args.data)
    if not (data / "reviewers.yaml").is_file() or not (data / "units.yaml").is_file():
        raise UserError(f"{args.data} 中没有 units.yaml 和 reviewers.yaml，无法演示")
    holder = None
    if args.out:
        target = Path(args.out).resolve()  # git runs in the demo repository: its key paths must not be relative
        if target.exists() and (not target.is_dir() or any(target.iterdir())):
            raise UserError(f"{args.out} 已存在且不是空目录")
    else:
        holder = tempfile.TemporaryDirectory(prefix="jinqiu-demo-")
        target = Path(holder.name)
    try:
        lab = demo.build_sample(data, target, limit=args.limit, log=lambda m: err.write(m + "\n"))
        statuses, problems = verify.run(lab.repo, lab.data, display_root="data", use_cache=False)
        report(problems, "text", out, err)
        counts = Counter(s.label for s in statuses.values())
        out.write(f"演示仓库：{'临时目录（已删除）' if holder else shown(lab.repo)}\n")
        out.write(f"签名提交数：{lab.git('rev-list', '--count', 'HEAD')}；核验后的状态：\n")
        for label, n in sorted(counts.items(), key=lambda kv: -kv[1]):
            out.write(f"  {label}：{n}\n")
        return 1 if has_errors(problems) else 0
    finally:
        if holder:
            holder.cleanup()
