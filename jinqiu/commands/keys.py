"""`build.py keys`: personal data sealed at rest: a person's own key, a year's union keys, re-keying.

  keys init --out FILE            make one's own age key (the private key stays on this machine)
  keys new-year YEAR              a group key for every grassroots union of a year, its keyring
                                  wrapped to each union's chain and signed by the administrator, and
                                  the public keys written into sealing.yaml (commit it signed)
  keys sync YEAR [--rotate 工会]  re-wrap a year's keyrings to the chains as they stand today (after
                                  adding or revoking a member); --rotate starts a new generation

The keyed commands take the person's identity from --identity or JINQIU_IDENTITY and the key
directory (a repository of its own, never the data repository) from --keys or JINQIU_KEYS.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ..problems import UserError
from ..records import layout, sealed
from .common import add_data_argument, data_dir, sealing_config

HELP = "个人信息加密保存的密钥：生成本人密钥、为一个年度的各工会生成密钥环、成员变动后重新加密密钥环"
ENV_IDENTITY = "JINQIU_IDENTITY"
ENV_KEYS = "JINQIU_KEYS"


def add_key_arguments(p) -> None:
    p.add_argument("--identity", metavar="文件", help=f"本人的 age 私钥文件（默认取环境变量 ${ENV_IDENTITY}）")
    p.add_argument("--keys", metavar="目录", help=f"密钥环目录（单独的密钥仓库，默认取环境变量 ${ENV_KEYS}）")


def ask_passphrase() -> str:
    """The passphrase of one's key file: JINQIU_PASSPHRASE (a build machine), else asked at the terminal."""
    from ..trust.keyring import PASSPHRASE_ENV

    if os.environ.get(PASSPHRASE_ENV):
        return os.environ[PASSPHRASE_ENV]
    import getpass
    import sys

    if not sys.stdin.isatty():
        raise UserError(f"密钥文件有口令保护，但这里无法输入口令：请在终端运行，或设置环境变量 {PASSPHRASE_ENV}")
    return getpass.getpass("密钥口令：")


def pointers_of(stored: dict) -> tuple:
    return layout.sealed_pointers("graduate" if "graduate" in stored else "application")


def opener(args, root: Path, reason: str, absent: str = "没有密钥时不做这些检查，也不会当作通过"):
    """An Opener for the keyed tier; without an identity or a key directory, fail closed (UserError,
    ending with `absent`: what is not done instead)."""
    from ..trust import keyring
    from ..records import dataset as ds

    identity = getattr(args, "identity", None) or os.environ.get(ENV_IDENTITY)
    keys_dir = getattr(args, "keys", None) or os.environ.get(ENV_KEYS)
    if not identity or not keys_dir:
        missing = "、".join(w for w, v in (("本人私钥（--identity 或 JINQIU_IDENTITY）", identity),
                                           ("密钥环目录（--keys 或 JINQIU_KEYS）", keys_dir)) if not v)
        raise UserError(f"{reason}需要看到加密的个人信息，只能在持有密钥的机器上运行（市总工会的构建机或审核人本人的电脑）；"
                        f"缺少{missing}。{absent}")
    if not Path(keys_dir).is_dir():
        raise UserError(f"密钥环目录 {keys_dir} 不存在")
    try:
        idents = keyring.read_identities(Path(identity), ask_passphrase)
    except keyring.KeyError_ as exc:
        raise UserError(str(exc)) from None
    reviewers = {}
    try:
        for r in (ds.read_one(root, str(root), "reviewers.yaml")[0].data or {}).get("reviewers", []):
            if isinstance(r, dict) and isinstance(r.get("id"), str):
                reviewers[r["id"]] = r
    except OSError:
        pass
    return keyring.Opener(Path(keys_dir), idents, keyring.admin_fingerprints(reviewers))


def keyed_open(args, root: Path, reason: str):
    """The keyed tier's open(stored) -> clear for validate.OPEN (fails closed without a key): a
    record of a shredded year gives its keyless view (nobody can check it any more, and that is no error)."""
    o = opener(args, root, reason)
    cfg = sealing_config(root, str(root))
    shredded = set(cfg.shredded if cfg else [])

    def open_(stored):
        if stored.get("year") in shredded:
            return sealed.hidden(stored)
        return o.open(stored, pointers_of(stored))

    open_.opener, open_.cfg = o, cfg
    open_.reviewer = lambda rv: sealed.open_reviewer(rv, o.identities)  # the reviewers' sealed ID numbers
    return open_


def set_tiers(args, root: Path, display_root: str, keyed: bool, reason: str) -> list:
    """Set up what validate reads of a sealed repository: with keyed, the keyed tier (validate.OPEN, failing
    closed without a key) and the year tag keys; always, the duplicate tags whose build signature holds
    (validate.TAGS). Returns a problem for each tags file that does not count. The caller calls
    validate.reset_tiers() when done."""
    from ..check import validate
    from ..trust import tagsig

    if keyed:
        validate.OPEN = keyed_open(args, root, reason)
        o, cfg = validate.OPEN.opener, validate.OPEN.cfg
        years = sorted({int(y) for y in (cfg.groups if cfg else {})} - set(cfg.shredded if cfg else []))
        validate.TAG_KEYS = {y: k for y in years if (k := o.tag_key(y)) is not None}
    else:
        cfg = sealing_config(root, display_root)
    tags, problems = tagsig.verified(root, display_root, cfg)
    validate.TAGS = tags
    return problems


def add_arguments(p) -> None:
    sub = p.add_subparsers(dest="keys_command", metavar="操作", required=True)
    init = sub.add_parser("init", help="生成本人的加密密钥（私钥只存在本机），打印公钥交给市总工会登记",
                          description="生成本人的加密密钥（age X25519）。私钥写入 --out 指定的文件（权限 600），"
                                      "绝不放进数据仓库；把打印出的公钥 age1… 交给市总工会管理员登记。")
    init.add_argument("--out", required=True, metavar="文件", help="私钥文件（已存在时不覆盖）")
    init.add_argument("--no-passphrase", action="store_true",
                      help="不设口令（只用于放在受保护磁盘上的构建机密钥；个人的密钥一定要设口令）")
    rv = sub.add_parser("revoke", help="吊销一位成员的加密公钥（此日起生成的密钥环不再包含此人；之后用 keys sync --rotate 换新一代密钥）",
                        description="在 sealing.yaml 中给成员的加密公钥写上吊销日期。随后运行 keys sync 年度 --rotate 工会，再由管理员签名提交。")
    add_data_argument(rv)
    rv.add_argument("member", metavar="成员编号")
    rv.add_argument("--on", required=True, metavar="日期", help="吊销日期 YYYY-MM-DD（丢失或离职当天）")
    sr = sub.add_parser("seal-reviewers", help="把审核人登记中的本人和家属身份证号码加密（只给构建密钥和托管密钥，不需要私钥），再由管理员签名提交",
                        description="把 reviewers.yaml 中明文的本人和家属身份证号码加密给市总工会构建机和托管密钥（sealing.yaml 的 build、escrow）。"
                                    "已加密的不变。之后由管理员签名提交。")
    add_data_argument(sr)
    for name, desc in (("new-year", "为一个年度的每个基层工会生成密钥，把密钥环加密给各自的审批链并由管理员签名，公开加密钥写入 sealing.yaml"),
                       ("sync", "按今天的登记重新加密一个年度的密钥环（增加或吊销成员之后）；--rotate 为一个工会换新一代密钥")):
        s = sub.add_parser(name, help=desc, description=desc)
        add_data_argument(s)
        s.add_argument("year", type=int, metavar="年度")
        s.add_argument("--keys", required=True, metavar="目录", help="密钥环目录（单独的密钥仓库）")
        s.add_argument("--admin-key", required=True, metavar="文件", help="管理员签名用的 SSH 私钥文件")
        s.add_argument("--today", metavar="日期", help="今天的日期 YYYY-MM-DD（默认今天）")
        if name == "sync":
            s.add_argument("--identity", required=True, metavar="文件", help="能打开现有密钥环的私钥（托管密钥或构建密钥）")
            s.add_argument("--rotate", action="append", default=[], metavar="工会", help="为此工会生成新一代密钥（可重复）")


def run(args, out, err) -> int:
    from ..trust import keyring

    try:
        return _run(args, out, err)
    except keyring.KeyError_ as exc:
        raise UserError(str(exc)) from None


def _run(args, out, err) -> int:
    from ..trust import keyring

    if args.keys_command == "init":
        path = Path(args.out)
        if path.exists():
            raise UserError(f"{args.out} 已存在，不覆盖；换一个文件名，或先确认旧密钥不再需要")
        secret, public = keyring.new_group()
        text = f"# jinqiu 个人加密私钥：只存在本机，不要发给任何人，不要放进数据仓库\n# public key: {public}\n{secret}\n"
        blob = text.encode("utf-8")
        if not args.no_passphrase:
            import pyrage

            first = ask_passphrase()
            if len(first) < 8:
                raise UserError("口令至少 8 个字符")
            if not os.environ.get(keyring.PASSPHRASE_ENV) and ask_passphrase() != first:
                raise UserError("两次输入的口令不一样，未生成密钥")
            blob = pyrage.passphrase.encrypt(blob, first)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(blob)
        out.write(f"{public}\n")
        err.write(f"私钥已写入 {args.out}（权限 600{'' if args.no_passphrase else '，有口令保护'}）。"
                  "把上面一行公钥交给市总工会管理员登记到 sealing.yaml。\n")
        return 0
    root = data_dir(args)
    cfg = sealing_config(root, args.data, "本市的记录以明文保存")
    if args.keys_command == "revoke":
        return _revoke(root, args, err)
    if args.keys_command == "seal-reviewers":
        return _seal_reviewers(root, args, cfg, err)
    today = args.today or keyring.today()
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", today):
        raise UserError(f"--today {today} 应写作 YYYY-MM-DD")
    units = _units(root)
    grassroots = sorted(u for u, v in units.items() if v.get("kind") in ("enterprise", "street"))
    signer = keyring.ssh_signer(Path(args.admin_key))
    keys_dir = Path(args.keys)
    keys_dir.mkdir(parents=True, exist_ok=True)
    groups = dict(cfg.groups.get(str(args.year)) or {})
    if args.keys_command == "new-year":
        if groups:
            raise UserError(f"sealing.yaml 中已有 {args.year} 年度的公开加密钥；成员变动请用 keys sync")
        for unit in grassroots:
            secret, public = keyring.new_group()
            keyring.write_keyring(keys_dir, args.year, unit, 1, secret, [r for _, r in keyring.chain(cfg, unit, units, today)], signer)
            groups[unit] = public
        keyring.write_tag_key(keys_dir, args.year, cfg, signer)
        _write_groups(root, args.year, groups)
        err.write(f"已为 {args.year} 年度 {len(grassroots)} 个基层工会生成密钥环和查重标记密钥（{keys_dir}），公开加密钥写入 sealing.yaml；"
                  "请由管理员签名提交 sealing.yaml，并提交、推送密钥仓库。\n")
        return 0
    # sync: open each union's latest keyring with the escrow/build identity, re-wrap to today's chain
    import pyrage

    idents = keyring.read_identities(Path(args.identity), ask_passphrase)
    rotated = set(args.rotate)
    unknown = rotated - set(grassroots)
    if unknown:
        raise UserError(f"--rotate：没有基层工会 {'、'.join(sorted(unknown))}")
    for unit in grassroots:
        gen = keyring.next_gen(keys_dir, args.year, unit) - 1
        recipients = [r for _, r in keyring.chain(cfg, unit, units, today)]
        if unit in rotated or gen == 0:
            secret, public = keyring.new_group()
            keyring.write_keyring(keys_dir, args.year, unit, gen + 1, secret, recipients, signer)
            old = cfg.recipients(args.year, unit)
            groups[unit] = [*old, public] if old else public
            continue
        blob = keyring.keyring_path(keys_dir, args.year, unit, gen).read_bytes()
        try:
            secret = pyrage.decrypt(blob, idents).decode("ascii").strip()
        except Exception:
            raise UserError(f"{args.identity} 打不开 {args.year}/{unit}.{gen} 的密钥环；须用托管密钥或构建密钥") from None
        keyring.write_keyring(keys_dir, args.year, unit, gen, secret, recipients, signer)
    keyring.write_tag_key(keys_dir, args.year, cfg, signer)  # a year set up before tags existed gets its key
    _write_groups(root, args.year, groups)
    err.write(f"已按 {today} 的登记重新加密 {args.year} 年度 {len(grassroots)} 个工会的密钥环"
              f"{'，并为 ' + '、'.join(sorted(rotated)) + ' 换了新一代密钥（已写入 sealing.yaml，请签名提交）' if rotated else ''}。\n")
    return 0


def _revoke(root: Path, args, err) -> int:
    from ..records import dataset as ds, yamlwrite

    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", args.on):
        raise UserError(f"--on {args.on} 应写作 YYYY-MM-DD")
    rec = ds.read_one(root, str(root), "sealing.yaml")[0]
    data = dict(rec.data)
    found = [m for m in data.get("members") or [] if isinstance(m, dict) and m.get("id") == args.member]
    if not found:
        raise UserError(f"sealing.yaml 中没有成员 {args.member}")
    for m in found:
        if not m.get("revoked_on") or str(m["revoked_on"]) > args.on:
            m["revoked_on"] = args.on
    ds.write_text(root, "sealing.yaml", yamlwrite.dump(data, "sealing"))
    units = sorted({str(m.get("unit")) for m in found})
    err.write(f"已在 sealing.yaml 中吊销 {args.member} 的加密公钥（{args.on} 起）。接着为 {'、'.join(units)} 及其下属基层工会"
              "运行 keys sync 年度 --rotate 工会 换新一代密钥，再由管理员签名提交 sealing.yaml。\n")
    return 0


def _seal_reviewers(root: Path, args, cfg, err) -> int:
    from ..records import dataset as ds, yamlwrite

    rec = ds.read_one(root, args.data, "reviewers.yaml")[0]
    if not isinstance(rec.data, dict):
        raise UserError(f"{args.data}/reviewers.yaml 无法读取，先用 validate 看是什么问题")
    data = dict(rec.data)
    before = data.get("reviewers") or []
    after = [sealed.seal_reviewer(r, [cfg.build, cfg.escrow]) if isinstance(r, dict) else r for r in before]
    changed = sum(1 for a, b in zip(before, after) if a != b)
    if changed:
        data["reviewers"] = after
        ds.write_text(root, "reviewers.yaml", yamlwrite.dump(data, "reviewers"))
    err.write(f"已把 {changed} 位审核人的身份证号码加密保存（只有构建密钥和托管密钥能打开）"
              f"{'；请由管理员签名提交 reviewers.yaml' if changed else '；没有明文号码，文件未改动'}。\n")
    return 0


def _units(root: Path) -> dict:
    from ..records import dataset as ds

    rec = ds.read_one(root, str(root), "units.yaml")[0]
    return {u["id"]: u for u in (rec.data or {}).get("units", []) if isinstance(u, dict) and "id" in u}


def _write_groups(root: Path, year: int, groups: dict) -> None:
    """Put one year's group recipients into sealing.yaml (canonical text; other years kept)."""
    from ..records import dataset as ds, yamlwrite

    rec = ds.read_one(root, str(root), "sealing.yaml")[0]
    data = dict(rec.data)
    data["groups"] = {**(data.get("groups") or {}), str(year): dict(sorted(groups.items()))}
    ds.write_text(root, "sealing.yaml", yamlwrite.dump(data, "sealing"))
