"""`build.py init-city`: a city's own repository from zero (jinqiu.edit.newcity)."""

from __future__ import annotations

from pathlib import Path

from ..edit import newcity
from ..problems import UserError

HELP = "建库：按市总工会填写的建库问卷，新建本市自己的仓库（程序、工作流、工会、审核人、信任根、第一个年度活动），由管理员签名"


def add_arguments(p) -> None:
    p.add_argument("target", nargs="?", metavar="目录", help="新仓库的目录（不存在或为空）")
    p.add_argument("--answers", metavar="文件", help="填好的建库问卷（YAML）")
    p.add_argument("--template", metavar="文件", help="写出一份空白的建库问卷，填好后再用 --answers 建库")


def run(args, out, err) -> int:
    if args.template:
        path = Path(args.template)
        if path.exists():
            raise UserError(f"{path} 已存在，不覆盖；换一个文件名，或先删除它")
        path.write_text(newcity.ANSWERS_TEMPLATE, encoding="utf-8")
        err.write(f"已写出建库问卷 {path}：按其中的说明填写，然后运行 python3 build.py init-city 新仓库目录 --answers {path}\n")
        return 0
    if not args.target or not args.answers:
        raise UserError("请给出新仓库的目录和填好的问卷：python3 build.py init-city 目录 --answers 建库.yaml"
                        "（空白问卷：python3 build.py init-city --template 建库.yaml）")
    target, answers = Path(args.target), Path(args.answers)
    try:
        plan = newcity.plan(answers, target)
        for w in plan.warnings:
            err.write(f"注意：{w}\n")
        commit = newcity.create(plan, target, answers)
    except newcity.CityError as exc:
        for line in exc.problems:
            out.write(f"{line}\n")
        err.write(f"有 {len(exc.problems)} 处问题，没有建库，也没有写入任何文件；改好问卷后重新运行。\n")
        return 1
    admins = [r for r in plan.reviewers.values() if r.get("admin")]
    out.write(f"已建立{plan.city}的仓库 {target}：{len(plan.units)} 个工会，{len(plan.reviewers)} 位审核人，"
              f"{plan.year} 年度活动；第一次提交 {commit[:10]} 由管理员签名。\n")
    out.write("信任根（管理员密钥的指纹，已写入 data/root-of-trust.txt 和本仓库的 git config jinqiu.rootKey）：\n")
    for r in admins:
        out.write(f"  {r['keys'][0]['fingerprint']}  {r['name']}\n")
    out.write("下一步（详见 docs/city.md）：\n"
              f"  1. 在 {plan.forge} 上新建私有仓库，推送：git remote add origin 仓库地址 && git push -u origin main\n"
              f"  2. 在平台上设置仓库变量 JINQIU_ROOT_KEY = {' '.join(plan.roots)}\n"
              "  3. 把上面的指纹另行（不经仓库）告诉各位审核人，让他们核对后固定（docs/review.md 第一节）\n"
              f"  4. cd {target} && python3 build.py   # 校验、核验并生成公开网站\n")
    if plan.sealing is not None:
        out.write(f"个人信息自 {plan.sealing['since']} 年度起加密保存（data/sealing.yaml，{len(plan.sealing['members'])} 位成员的加密公钥）。"
                  "填报之前还要为这一年的各工会生成密钥（详见 docs/sealing.md 第三节）：\n"
                  "  5. 另建一个密钥仓库（绝不放进数据仓库）：git init -q -b main ~/金秋密钥\n"
                  f"  6. cd {target} && python3 build.py keys new-year {plan.year} --keys ~/金秋密钥 --admin-key 管理员的SSH私钥\n"
                  f"  7. git -C ~/金秋密钥 add -A && git -C ~/金秋密钥 commit -m \"{plan.year} 年度的密钥环\"；"
                  "git add data/sealing.yaml && git commit -S -m \"各工会的公开加密钥\"\n")
    return 0
