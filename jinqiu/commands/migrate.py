"""`build.py migrate`: a city's clear repository into a new sealed one, its approvals carried over
through an administrator-signed map (jinqiu.edit.migrate, jinqiu.trust.carry)."""

from __future__ import annotations

import os
from pathlib import Path

from ..edit import migrate
from ..problems import UserError
from .keys import ENV_IDENTITY, ENV_KEYS, ask_passphrase

HELP = ("迁移：把明文保存的旧仓库转成加密保存的新仓库（新的历史），旧仓库中经核验的审批经管理员签名的承接表继续有效；"
        "在市总工会持有构建密钥的电脑上运行")


def add_arguments(p) -> None:
    p.add_argument("old", metavar="旧仓库", help="明文保存的旧仓库（工作目录，已全部提交）")
    p.add_argument("new", metavar="新仓库", help="新仓库的目录（不存在或为空）")
    p.add_argument("--sealing", metavar="文件", help="写好的加密设置 sealing.yaml（默认取旧仓库的 data/sealing.yaml）")
    p.add_argument("--keys", metavar="目录", help=f"密钥仓库（默认取环境变量 ${ENV_KEYS}）；没有密钥的加密年度在这里生成密钥环")
    p.add_argument("--identity", metavar="文件", help=f"构建密钥（默认取环境变量 ${ENV_IDENTITY}）：用来核对每份加密的记录能解开、与明文一致")
    p.add_argument("--admin-key", required=True, metavar="文件", help="管理员签名用的 SSH 私钥文件（须是信任根中的管理员密钥）")
    p.add_argument("--root-key", action="append", metavar="指纹", help="旧仓库的信任根（默认取旧仓库自己设置的信任根指纹）")
    p.add_argument("--today", metavar="日期", help="今天的日期 YYYY-MM-DD（默认今天；生成密钥环时按这天的登记）")


def run(args, out, err) -> int:
    identity = args.identity or os.environ.get(ENV_IDENTITY)
    keys = args.keys or os.environ.get(ENV_KEYS)
    if not identity or not keys:
        missing = "、".join(w for w, v in (("构建密钥（--identity 或 JINQIU_IDENTITY）", identity),
                                           ("密钥仓库（--keys 或 JINQIU_KEYS）", keys)) if not v)
        raise UserError(f"迁移要核对每份加密的记录能用构建密钥解开、与明文完全一致，缺少{missing}；没有迁移，什么都没有写")
    try:
        result = migrate.migrate(Path(args.old), Path(args.new), keys_dir=Path(keys), identity=Path(identity),
                                 admin_key=Path(args.admin_key), sealing_file=Path(args.sealing) if args.sealing else None,
                                 today=args.today, root_keys=args.root_key, passphrase=ask_passphrase,
                                 log=lambda m: err.write(m + "\n"))
    except migrate.MigrateError as exc:
        for line in exc.problems:
            out.write(f"{line}\n")
        err.write(f"有 {len(exc.problems)} 处问题，没有迁移：新仓库和密钥仓库都没有写入任何文件。\n")
        return 1
    out.write(f"已建立加密保存的新仓库 {result.new}：{result.sealed} 份记录加密保存（自 {result.since} 年度起），"
              f"{result.clear} 份早年的记录照旧明文；{result.carried} 份申请的审批经承接表（data/carry-over.json，管理员签名）继续有效；"
              f"{result.statuses} 份申请的审批状态与旧仓库逐一相同。提交 {'、'.join(c[:10] for c in result.commits)}。\n")
    if result.years_keyed:
        out.write(f"已为 {'、'.join(map(str, result.years_keyed))} 年度的各基层工会生成密钥环（{keys}）：请提交、推送密钥仓库。\n")
    out.write("下一步（详见 docs/city.md）：\n"
              "  1. 在平台上新建私有仓库，推送新仓库；平台的 JINQIU_ROOT_KEY 不变\n"
              "  2. 在平台上删除旧仓库，并通知每个工会删除旧仓库的克隆：旧历史里的明文，加密挡不住\n"
              "  3. 各工会、审核人重新克隆新仓库，按 docs/review.md 第一节固定信任根\n")
    return 0
