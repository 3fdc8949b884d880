"""`build.py tags [YEAR…]`: the city build writes each sealed year's duplicate tags, signed (check.dupetags).

Keyed: the build identity opens every sealed record of the year and the year's tag key; the result is
`data/tags/<Y>.yaml`, signed by the build's SSH key (sealing.yaml `build_signer`). An unchanged result
leaves the file byte for byte as it was (no commit to make).
"""

from __future__ import annotations

import re
from pathlib import Path

from .. import parallel
from ..problems import UserError
from ..records import dataset as ds
from ..records import sealed
from .common import add_data_argument, data_dir, sealing_config

HELP = "构建机：为加密保存的年度算出查重标记（只有构建机持有标记密钥），签名后写入 data/tags/<年度>.yaml，供没有密钥的校验查重"


def add_arguments(p) -> None:
    from .keys import add_key_arguments

    add_data_argument(p)
    p.add_argument("years", nargs="*", type=int, metavar="年度", help="要算的年度（默认：全部加密保存且未销毁的年度）")
    add_key_arguments(p)
    p.add_argument("--signing-key", required=True, metavar="文件",
                   help="构建机的 SSH 签名私钥（其公钥须登记为 sealing.yaml 的 build_signer）")
    p.add_argument("--today", metavar="日期", help="今天的日期 YYYY-MM-DD（默认今天）")
    p.add_argument("--all", action="store_true",
                   help="全部重新计算（默认只解密内容变了或新增的记录，其余沿用现有的、签名有效的标记；validate --keyed 总是全部重算核对）")


def run(args, out, err) -> int:
    from ..trust import keyring

    try:
        return _run(args, out, err)
    except keyring.KeyError_ as exc:
        raise UserError(str(exc)) from None


def _years(root: Path, cfg: sealed.Sealing) -> list[int]:
    found = set()
    for folder in ("applications", "graduates"):
        base = root / folder
        for p in base.iterdir() if base.is_dir() else ():
            if re.fullmatch(r"[0-9]{4}", p.name) and cfg.year_sealed(int(p.name)) and int(p.name) not in cfg.shredded:
                found.add(int(p.name))
    return sorted(found)


def _run(args, out, err) -> int:
    from ..check import dupetags
    from ..records import yamlwrite
    from ..trust import keyring, registry, sshsig, tagsig
    from .keys import opener, pointers_of

    root = data_dir(args)
    cfg = sealing_config(root, args.data, "本市的记录以明文保存，查重不需要标记")
    if not cfg.build_signer:
        raise UserError("加密设置 sealing.yaml 中没有登记构建机签名公钥 build_signer（docs/sealing.md 第二节），"
                        "没有它签名的查重标记不算数")
    today = args.today or keyring.today()
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", today):
        raise UserError(f"--today {today} 应写作 YYYY-MM-DD")
    sign = keyring.ssh_signer(Path(args.signing_key), tagsig.NAMESPACE_TAGS, "查重标记",
                              "构建机的签名私钥 {file} 不存在（--signing-key 应是构建机的 SSH 私钥文件）")
    probe = sshsig.parse(sign(b"jinqiu tags probe"))  # signed with the registered key, or nothing is written
    if probe.fingerprint != registry.ssh_fingerprint(cfg.build_signer):
        raise UserError(f"{args.signing_key} 不是登记的构建机签名私钥（sealing.yaml 的 build_signer），"
                        "用它签名的查重标记不算数；没有写入任何文件")
    years = args.years or _years(root, cfg)
    for year in years:
        if not cfg.year_sealed(year) or year in cfg.shredded:
            raise UserError(f"{year} 年度{'的密钥已销毁' if year in cfg.shredded else '不加密保存'}，没有查重标记")
    o = opener(args, root, "tags ", "没有写入任何查重标记")
    reviewers = {}
    rv_rec = ds.read_one(root, str(root), "reviewers.yaml")[0] if (root / "reviewers.yaml").is_file() else None
    for r in (rv_rec.data or {}).get("reviewers", []) if rv_rec is not None and isinstance(rv_rec.data, dict) else []:
        if isinstance(r, dict) and isinstance(r.get("id"), str):
            reviewers[r["id"]] = r
    failed = 0
    current, _ = tagsig.verified(root, args.data, cfg)  # a record whose values are unchanged keeps its tags
    for year in years:
        before = {} if args.all else (current.years.get(year) or {}).get("records") or {}
        key = o.tag_key(year)
        if key is None:
            raise UserError(f"打不开 {year} 年度的查重标记密钥（{keyring.tag_key_path(Path(o.keys_dir), year)}）："
                            "它只加密给构建密钥和托管密钥，由 keys new-year 或 keys sync 生成并经管理员签名；没有写入任何查重标记")
        rels = []
        for folder in ("applications", "graduates"):
            base = root / folder / str(year)
            rels += sorted(f"{folder}/{year}/{p.relative_to(base).as_posix()}" for p in base.rglob("*.yaml")) if base.is_dir() else []

        def one(rel, key=key, before=before):
            """(record id, its tags entry or None, the message when it cannot be opened)."""
            record = ds.read_one(root, args.data, rel)[0]
            if not isinstance(record.data, dict) or not sealed.is_sealed(record.data):
                return None
            rid, commit = str(record.data.get("id")), record.data[sealed.SEALED_KEY].get("commit")
            kept = before.get(rid)
            if kept is not None and kept.get("commit") == commit:
                return rid, kept, None, False
            try:
                clear = o.open(record.data, pointers_of(record.data))
            except sealed.SealError as exc:
                return rid, None, f"{record.path}: 无法解密，未算标记：{exc}", True
            return rid, {"commit": commit, **dupetags.record_tags(key, clear)}, None, True

        records, reopened = {}, 0
        for got in parallel.fork_map(one, rels) or list(map(one, rels)):
            if got is None:
                continue
            rid, entry, problem, was_opened = got
            reopened += was_opened
            if problem:
                err.write(problem + "\n")
                failed += 1
            else:
                records[rid] = entry
        people = {}
        for rid, r in sorted(reviewers.items()):
            try:
                opened = {**sealed.open_reviewer(r, o.identities), dupetags.IDS: dupetags.reviewer_digest(r)}
            except sealed.SealError as exc:
                err.write(f"{args.data}/reviewers.yaml: 审核人 {rid} 的身份证号码无法解密，未算标记：{exc}\n")
                failed += 1
                continue
            if dupetags.reviewer_numbers(opened):
                people[rid] = dupetags.reviewer_tags(key, opened)
        content = {"year": year, "made_on": today, "records": dict(sorted(records.items())), "reviewers": people}
        rel = f"tags/{year}.yaml"
        if (root / rel).is_file():
            old = ds.read_one(root, args.data, rel)[0].data
            if isinstance(old, dict) and old.get("records") == content["records"] and old.get("reviewers") == content["reviewers"]:
                err.write(f"{year} 年度的查重标记没有变化（{len(records)} 份记录），{args.data}/{rel} 保持原样。\n")
                continue
        ds.write_text(root, rel, yamlwrite.dump(tagsig.signed(content, sign), "tags"))
        err.write(f"已写入 {args.data}/{rel}：{year} 年度 {len(records)} 份加密记录（其中 {reopened} 份新增或改动、解密重算）、"
                  f"{len(people)} 位审核人的查重标记，"
                  "已用构建机的钥匙签名；请提交。\n")
    return 1 if failed else 0
