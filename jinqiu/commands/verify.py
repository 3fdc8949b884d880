"""`build.py verify`: prove every approval from the git history and report what does not hold."""

from __future__ import annotations


from ..trust import verify
from ..problems import ERROR, UserError, has_errors, report
from .common import add_data_argument, data_dir, forge_checker

HELP = "核验审批：每条审批是否由登记的审核人用有效密钥签名、层级和工会是否正确、内容是否被改动"


def add_arguments(p) -> None:
    add_data_argument(p)
    p.add_argument("--format", choices=("text", "json", "github"), default="text", help="输出格式（默认 text）")
    p.add_argument("--root-key", action="append", metavar="指纹",
                   help="信任根：市总工会管理员密钥的指纹（可多次给出；默认读 root-of-trust.txt）")
    p.add_argument("--no-cache", action="store_true", help="不使用缓存，全部重新核验")
    p.add_argument("--status", action="store_true", help="同时列出每份申请核验后的状态")
    p.add_argument("--changed-since", metavar="提交", help="合并请求用：只核验相对该提交（与当前提交的共同祖先）改动的申请和可能受其影响的申请，"
                        "报告改动文件中的全部问题和其他文件中的错误（前提是该提交已通过全部核验）")
    p.add_argument("--summary", metavar="文件", help="把合并请求摘要（Markdown）追加到该文件，需与 --changed-since 同用")


def run(args, out, err) -> int:
    root = data_dir(args)
    checker = forge_checker()
    scope = _scope(root, args.changed_since, err) if args.changed_since else None
    statuses, problems = verify.run(None, root, display_root=args.data, root_keys=args.root_key,
                                    forge_checker=checker, use_cache=not args.no_cache, scope=scope)
    if args.changed_since:
        from ..check import validate
        from ..trust import gitlog, prsummary

        repo = gitlog.toplevel(root)
        if repo is None:
            raise UserError("--changed-since 需要 git 仓库")
        prefix = root.resolve().relative_to(repo.resolve()).as_posix()
        prefix = "" if prefix == "." else prefix
        if scope is not None:
            changed = [scope.in_repo(r) for r in scope.changed]
            err.write(f"按改动范围核验：相对 {scope.base[:10]} 改动了 {len(scope.changed)} 个文件，"
                      f"连同可能与之相关的 {len(scope.related)} 个文件一起核验。\n")
        else:
            try:
                changed = prsummary.changed_files(repo, args.changed_since)
            except gitlog.GitError:
                changed = None  # no base to compare with: every problem is shown
            if changed is not None:
                shown = {f"{args.data.rstrip('/')}/{c[len(prefix) + 1:]}" if prefix else f"{args.data.rstrip('/')}/{c}"
                         for c in changed}
                problems = [p for p in problems if p.path in shown or p.severity == ERROR]
        if args.summary and changed is not None:
            rels = None if scope is None else sorted(
                {r for r in ("units.yaml", "reviewers.yaml") if (root / r).is_file()}
                | {r for r in scope.changed if (root / r).is_file() and not (root / r).is_symlink()})
            dataset = validate.load(root, args.data, rels=rels)
            with open(args.summary, "a", encoding="utf-8") as f:
                f.write(prsummary.render(dataset, statuses, problems, changed, repo, prefix))
    report(problems, args.format, out, err)
    if args.status:
        for rel in sorted(statuses):
            out.write(f"{rel}: {statuses[rel].label}\n")
    return 1 if has_errors(problems) else 0


def _scope(root, base: str, err):
    """The pull request's scope (prscope.build), or None after saying why everything is verified."""
    from ..trust import prscope

    try:
        return prscope.build(root, base)
    except prscope.FullRun as exc:
        err.write(f"全部核验：{exc}。\n")
        return None
