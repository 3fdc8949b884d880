"""`build.py verify`: prove every approval from the git history and report what does not hold."""

from __future__ import annotations

import os

from .. import forge, verify
from ..problems import has_errors, report
from .validate import add_data_argument, data_dir

HELP = "核验审批：每条审批是否由登记的审核人用有效密钥签名、层级和工会是否正确、内容是否被改动"


def add_arguments(p) -> None:
    add_data_argument(p)
    p.add_argument("--format", choices=("text", "json", "github"), default="text", help="输出格式（默认 text）")
    p.add_argument("--root-key", action="append", metavar="FINGERPRINT",
                   help="信任根：市总工会管理员密钥的指纹（可多次给出；默认读 root-of-trust.txt）")
    p.add_argument("--no-cache", action="store_true", help="不使用缓存，全部重新核验")
    p.add_argument("--status", action="store_true", help="同时列出每份申请核验后的状态")


def run(args, out, err) -> int:
    root = data_dir(args)
    statuses, problems = verify.run(None, root, display_root=args.data, root_keys=args.root_key,
                                    forge_checker=forge.checker_from_env(os.environ), use_cache=not args.no_cache)
    report(problems, args.format, out, err)
    if args.status:
        for rel in sorted(statuses):
            out.write(f"{rel}: {statuses[rel].label}\n")
    return 1 if has_errors(problems) else 0
