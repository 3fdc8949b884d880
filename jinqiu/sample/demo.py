"""A repository with real signed approvals, made with TEST keys generated on the spot.

`Lab` is a small git workbench (used by the tests, the benchmark and the `demo` command): make
ssh-keygen keys (comment "TEST KEY ... not for real use"), write files, commit signed or not with a
given date and author. `build_sample(data_dir, out_dir)` copies a data tree into a new repository,
registers a TEST key for every reviewer (signed by a TEST root administrator), and replays the
sample day by day as it would have happened: each file filed on its own date, each decision as a
commit signed by its reviewer (approve), each payout as a commit signed by its payer (pay), every
commit dated the day of its facts, so that the history itself dates the campaign.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

TEST_COMMENT = "TEST KEY made by jinqiu demo - not for real use"
GIT_ID = {"GIT_AUTHOR_NAME": "Jinqiu Demo", "GIT_AUTHOR_EMAIL": "demo@jinqiu.invalid",
          "GIT_COMMITTER_NAME": "Jinqiu Demo", "GIT_COMMITTER_EMAIL": "demo@jinqiu.invalid"}


class Lab:
    """A git repository and a folder of keys, for tests and the demo."""

    def __init__(self, root: Path, data: str = "data"):
        self.root = Path(root)
        self.repo = self.root / "repo"
        self.keys = self.root / "keys"
        self.data = self.repo / data if data else self.repo
        self.repo.mkdir(parents=True, exist_ok=True)
        self.keys.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")
        self.git("config", "commit.gpgsign", "false")
        self.git("config", "gpg.format", "ssh")

    def git(self, *args, env=None, check=True) -> str:
        full = {**os.environ, **GIT_ID, **(env or {})}
        full.pop("GIT_DIR", None)
        p = subprocess.run(["git", "-C", str(self.repo), *args], capture_output=True, text=True, env=full)
        if check and p.returncode != 0:
            raise RuntimeError(f"git {' '.join(args)}: {p.stderr}")
        return p.stdout.strip()

    def key(self, name: str, kind: str = "ed25519") -> str:
        """Make (once) a TEST key pair; return the public key line."""
        path = self.keys / name
        if not path.exists():
            subprocess.run(["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", f"{TEST_COMMENT} ({name})", "-f", str(path)],
                           check=True, capture_output=True)
        return (self.keys / f"{name}.pub").read_text().strip()

    def fingerprint(self, name: str) -> str:
        from ..trust import registry

        return registry.ssh_fingerprint(self.key(name))

    def write(self, rel: str, text: str) -> Path:
        path = self.data / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    def read(self, rel: str) -> str:
        return (self.data / rel).read_text(encoding="utf-8")

    def commit(self, message: str, key: str | None = None, date: str | None = None, author: str | None = None,
               paths=None) -> str:
        """Commit everything (or paths), signed with the named TEST key when given."""
        env = {}
        if date:
            stamp = date if "T" in date or " " in date else f"{date}T10:00:00+08:00"
            env.update(GIT_AUTHOR_DATE=stamp, GIT_COMMITTER_DATE=stamp)
        if author:
            env.update(GIT_AUTHOR_NAME=author, GIT_COMMITTER_NAME=author)
        self.git("add", "-A", *(paths or []), env=env)
        args = ["commit", "-q", "--allow-empty", "-m", message]
        if key:
            self.key(key)
            args = ["-c", f"user.signingkey={self.keys / key}", "-c", "gpg.format=ssh", *args, "-S"]
        self.git(*args, env=env)
        return self.git("rev-parse", "HEAD")

    def pin_root(self, *names: str) -> None:
        """Pin the root of trust of this clone (git config jinqiu.rootKey) to these keys."""
        self.git("config", "--unset-all", "jinqiu.rootKey", check=False)
        for name in names:
            self.git("config", "--add", "jinqiu.rootKey", self.fingerprint(name))

    def signing_env(self, key: str, date: str | None = None) -> dict:
        """Environment that makes `git commit -S` (as run by approve) sign with this TEST key."""
        env = {**GIT_ID, "GIT_CONFIG_COUNT": "2", "GIT_CONFIG_KEY_0": "user.signingkey", "GIT_CONFIG_VALUE_0": str(self.keys / key),
               "GIT_CONFIG_KEY_1": "gpg.format", "GIT_CONFIG_VALUE_1": "ssh"}
        if date:
            env.update(GIT_AUTHOR_DATE=f"{date}T10:00:00+08:00", GIT_COMMITTER_DATE=f"{date}T10:00:00+08:00")
        return env


def reviewer_yaml(rid, name, unit, level, keys, admin=False, id_number=None, family=(), logins=None) -> str:
    lines = [f"- id: {rid}", f"  name: {name}", f"  unit: {unit}", f"  level: {level}"]
    if admin:
        lines.append("  admin: true")
    if id_number:
        lines.append(f'  id_number: "{id_number}"')
    if family:
        lines.append("  family_id_numbers:")
        lines += [f'  - "{f}"' for f in family]
    if logins:
        lines.append("  forge_logins:")
        lines += [f"    {k}: {v}" for k, v in logins.items()]
    lines.append("  keys:")
    for k in keys:
        lines.append(f"  - type: ssh")
        lines.append(f"    public_key: {k['public_key']}")
        lines.append(f"    valid_from: \"{k.get('valid_from', '2011-01-01')}\"")
        for opt in ("valid_until", "revoked_on"):
            if k.get(opt):
                lines.append(f"    {opt}: \"{k[opt]}\"")
    return "\n".join(lines) + "\n"


def _replace_keys(block: str, public_key: str) -> str:
    """A reviewer's YAML block with its keys list replaced by one TEST key."""
    head = re.split(r"(?m)^  keys:.*$", block, maxsplit=1)[0]
    rest = re.split(r"(?m)^  keys:.*\n((?:    .*\n|  - .*\n)*)", block, maxsplit=1)
    tail = rest[-1] if len(rest) > 1 else ""
    return (head + "  keys:\n  - type: ssh\n" + f"    public_key: {public_key}\n" + '    valid_from: "2000-01-01"\n' + tail)


def build_sample(data_dir: Path, out_dir: Path, limit: int | None = None, log=None) -> Lab:
    """A new repository under out_dir holding data_dir's records, whose approvals are replayed as
    commits signed by each reviewer's TEST key; returns the Lab (repo at out_dir/repo)."""
    from ..check import validate
    from ..records import yamlstrict
    from ..trust import approve

    log = log or (lambda msg: None)
    lab = Lab(out_dir)
    data_dir = Path(data_dir)
    src = validate.load(data_dir, str(data_dir))
    reviewers = src.reviewers
    # 1. the registry with a TEST key for everyone, signed by the first city administrator (the root).
    admins = [rid for rid, r in reviewers.items() if r.get("admin") is True and r.get("level") == 3] or \
             [rid for rid, r in reviewers.items() if r.get("level") == 3]
    if not admins:
        raise RuntimeError("样例数据中没有市总工会审核人，无法建立信任根")
    root = admins[0]
    reg_text = (data_dir / "reviewers.yaml").read_text(encoding="utf-8")
    blocks = re.split(r"(?m)^(?=- id: )", reg_text)
    out = [blocks[0]]
    for b in blocks[1:]:
        rid = re.match(r"- id: *([^\s]+)", b).group(1).strip("'\"")
        out.append(_replace_keys(b if b.endswith("\n") else b + "\n", lab.key(rid)))
    if root in reviewers and reviewers[root].get("admin") is not True:
        log(f"把 {root} 作为登记管理员")
    for rel in ("units.yaml", "reviewers.yaml"):
        (lab.data).mkdir(parents=True, exist_ok=True)
    (lab.data / "reviewers.yaml").write_text("".join(out), encoding="utf-8")
    shutil.copy(data_dir / "units.yaml", lab.data / "units.yaml")
    for rel in sorted(_files(data_dir)):  # the campaign files (and a sealing set-up) are trust data too: in the signed commit
        if rel.startswith("campaigns/") or rel == "sealing.yaml":
            lab.write(rel, (data_dir / rel).read_text(encoding="utf-8"))
    lab.write("root-of-trust.txt", f"# TEST root of trust made by `build.py demo` - not for real use\n{lab.fingerprint(root)}  # {root}\n")
    lab.pin_root(root)
    lab.commit("登记审核人（演示用 TEST 测试密钥）", key=root, date="2000-01-02")
    # 2. the rest replayed day by day, as it would have happened: each file filed on its own
    # 填表日期 (an unsigned commit that day), then that day's decisions level by level (one signed
    # commit per reviewer, decision and opinion, through approve), then that day's payouts (one
    # signed commit per reviewer and amount, through pay). Every commit is dated the day of its
    # facts, so the history dates the campaign, and the over-time chart and the deadlines are real.
    apps = sorted(src.applications, key=lambda r: r.rel)[:limit] if limit else src.applications
    keep = {r.rel for r in apps}
    texts, pending, payouts = {}, [], []
    for rel in sorted(_files(data_dir)):
        if rel in ("reviewers.yaml", "units.yaml", "root-of-trust.txt", "sealing.yaml") or rel.startswith("campaigns/"):
            continue
        if rel.startswith("applications/") and rel not in keep:
            continue
        text = (data_dir / rel).read_text(encoding="utf-8")
        if rel in keep:
            m = re.search(r"(?m)^approvals:", text)
            if m:
                tree, _ = yamlstrict.load(text[m.start():].encode(), rel)
                pending.append((rel, [e for e in tree.get("approvals") or [] if isinstance(e, dict)]))
                text = text[:m.start()] + "approvals: []\n"
            paid = re.search(r'(?m)^  paid_on: *"?([0-9-]+)"?\n  paid_by: *([^\s]+)\n(?:  paid_signature: \|\n(?:    .*\n)*)?', text)
            if paid:
                payouts.append((rel, paid.group(1), paid.group(2)))
                text = text[:paid.start()] + text[paid.end():]
        texts[rel] = text
    days: dict[str, dict] = {}
    for rel, text in texts.items():
        m = re.search(r'(?m)^filed_on: *"?([0-9]{4}-[0-9]{2}-[0-9]{2})"?', text)
        days.setdefault(m.group(1) if m else "2000-01-03", {}).setdefault("file", []).append(rel)
    for rel, entries in pending:
        for e in entries:
            key = (int(e.get("level") or 0), str(e.get("reviewer")), str(e.get("decision")), str(e.get("opinion")))
            days.setdefault(str(e.get("date")), {}).setdefault("decide", {}).setdefault(key, []).append(rel)
    for rel, day, rid in payouts:
        days.setdefault(day, {}).setdefault("pay", {}).setdefault(rid, []).append(rel)
    from ..records import dataset as ds

    dataset = validate.load(lab.data, "data")  # the registry, units and campaigns; each file is added as it is filed
    by_rel: dict = {}
    for day in sorted(days):
        todo = days[day]
        if todo.get("file"):
            for rel in todo["file"]:
                lab.write(rel, texts[rel])
                record = ds.read_one(lab.data, "data", rel)[0]
                dataset.records.append(record)
                if record.kind == "application" and record.data is not None:
                    by_rel[rel] = record
            dataset._by_kind = None
            lab.commit("填报（演示）", date=day)
        for (level, rid, decision, opinion), rels in sorted(todo.get("decide", {}).items()):
            if rid not in reviewers:
                continue
            signing = approve.Signing("ssh", str(lab.keys / rid), lab.fingerprint(rid))
            try:
                approve.approve(lab.repo, lab.data, [by_rel[r] for r in rels], opinion=opinion,
                                reject=decision == "reject", today=_date(day), signing=signing, dataset=dataset,
                                env=lab.signing_env(rid, day))
            except approve.ApproveError as exc:
                log(f"跳过 {rid} {day}：{exc}")
            _reread(lab, by_rel, rels)
        for rid, rels in sorted(todo.get("pay", {}).items()):
            _pay(lab, dataset, by_rel, rid, rels, day, log)
    log(f"重放了 {len(days)} 天的填报、审批和发放")
    return lab


def _reread(lab: Lab, by_rel: dict, rels) -> None:
    """The records as approve or pay left them (the dataset is kept, not read again)."""
    from ..records import dataset as ds

    for rel in rels:
        record = ds.read_one(lab.data, "data", rel)[0]
        if record.data is not None:
            by_rel[rel].data = record.data


def _pay(lab: Lab, dataset, by_rel: dict, rid: str, rels, day: str, log) -> None:
    """One payout commit per amount, signed by the sample's payer; statuses as the replayed files claim
    (the demo made every approval itself; verify proves them afterwards)."""
    from decimal import Decimal

    from ..trust import approve, payout, registry, status

    amounts: dict = {}
    for rel in rels:
        amounts.setdefault(Decimal(str((by_rel[rel].data.get("aid") or {}).get("amount"))), []).append(rel)
    signing = approve.Signing("ssh", str(lab.keys / rid), lab.fingerprint(rid))
    for amount, group in sorted(amounts.items()):
        records = [by_rel[r] for r in group]
        claims = {r.rel: status.from_claims(r.data, registry.funding_level(str(r.data.get("unit")),
                                                                          (r.data.get("aid") or {}).get("funding_unit"),
                                                                          dataset.units)) for r in records}
        try:
            payout.pay_batch(lab.repo, lab.data, records, amount=amount, statuses=claims, today=_date(day),
                             signing=signing, dataset=dataset, env=lab.signing_env(rid, day), partial=True)
        except approve.ApproveError as exc:
            log(f"跳过发放 {rid} {day}：{exc}")
        _reread(lab, by_rel, group)


def _date(text):
    import datetime as dt

    return dt.date.fromisoformat(text)


def _files(root: Path):
    for p in root.rglob("*"):
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts):
            yield p.relative_to(root).as_posix()


# ---------------------------------------------------------------------------------------------
# A small world for tests and the benchmark: a city, two districts, three grassroots unions.

UNITS_YAML = """units:
- id: dl
  name: 大连市总工会
  kind: city
- id: dl-zs
  name: 大连市中山区总工会
  kind: district
  parent: dl
- id: dl-xg
  name: 大连市西岗区总工会
  kind: district
  parent: dl
- id: dl-zs-0001
  name: 大连港集团工会
  kind: enterprise
  parent: dl-zs
- id: dl-zs-0002
  name: 中山区青泥洼桥街道工会
  kind: street
  parent: dl-zs
- id: dl-xg-0001
  name: 西岗区某企业工会
  kind: enterprise
  parent: dl-xg
"""

# reviewer id -> (name, unit, level, admin)
WORLD_REVIEWERS = {
    "r-dl-01": ("王立新", "dl", 3, True),
    "r-dl-02": ("赵敏", "dl", 3, False),
    "r-zs-01": ("李建华", "dl-zs", 2, False),
    "r-xg-01": ("孙海", "dl-xg", 2, False),
    "r-zs1-01": ("张伟", "dl-zs-0001", 1, False),
    "r-zs2-01": ("刘芳", "dl-zs-0002", 1, False),
    "r-xg1-01": ("陈静", "dl-xg-0001", 1, False),
}
LEVEL_OF_UNIT = {"dl": 3, "dl-zs": 2, "dl-xg": 2}


def id_number(seq: int, birth: str = "19700315") -> str:
    from ..check.ids import check_digit

    first = f"210202{birth}{seq % 1000:03d}"
    return first + check_digit(first)


def application_yaml(record_id: str, unit: str, worker_seq: int = 1, funding_unit: str = "dl", amount: str = "5000",
                     paid_on: str | None = None, student: str = "王小明") -> str:
    year = record_id[:4]
    paid = f'\n  paid_on: "{paid_on}"' if paid_on else ""
    return f"""id: {record_id}
form: new
year: {year}
unit: {unit}
filed_on: "{year}-07-20"
worker:
  name: 王大山
  gender: 男
  birth_month: "1970-03"
  employer: 大连港集团
  id_number: "{id_number(worker_seq)}"
  address: 大连市中山区人民路1号
  phone: "13900000000"
  household_size: 3
  income_per_capita: 800.50
  employment: 在岗
  hardship_cause: 家人患病
student:
  name: {student}
  school: 大连理工大学
  major: 机械工程
  education: 本科
  admission_year: {year}
flags:
  in_archive: true
  migrant_worker: false
documents:
  admission_notice: true
  exam_scores: true
  system_printout: true
aid:
  funding_unit: {funding_unit}
  amount: {amount}{paid}
approvals: []
"""


def world(lab: Lab, extra_reviewers: str = "", key_overrides: dict | None = None, date: str = "2011-06-01",
          root: str = "r-dl-01") -> None:
    """Units, a registry with a TEST key per reviewer, and root-of-trust.txt, in one commit signed by
    the root administrator."""
    key_overrides = key_overrides or {}
    parts = ["reviewers:\n"]
    for rid, (name, unit, level, admin) in WORLD_REVIEWERS.items():
        keys = key_overrides.get(rid) or [{"public_key": lab.key(rid), "valid_from": "2011-01-01"}]
        parts.append(reviewer_yaml(rid, name, unit, level, keys, admin=admin, id_number=id_number(900 + len(parts)),
                                   logins={"github": f"gh-{rid}", "gitea": f"gt-{rid}"}))
    parts.append(extra_reviewers)
    lab.write("units.yaml", UNITS_YAML)
    lab.write("reviewers.yaml", "".join(parts))
    lab.write("root-of-trust.txt", f"# TEST root of trust\n{lab.fingerprint(root)}  # {root}\n")
    lab.pin_root(root)
    lab.commit("登记工会和审核人", key=root, date=date)


def sample_city(lab: Lab, applications_per_year: int, *, seed: int = 2011, key_seed: int = 4242) -> None:
    """The synthetic sample (jinqiu.sample.generate) as a city keeps it: signed with keys of its own
    (key_seed, not the published TEST keys; the private keys in lab.keys, named by reviewer), the root
    of trust pinned in this clone (git config jinqiu.rootKey), the trust data (units, reviewers,
    campaigns, root file) in a commit signed by the city's administrator, then every record in one
    filing commit (each approval and payout carries its reviewer's detached signature)."""
    from . import generate as gen
    from ..trust import anchor

    staging = lab.root / "sample"
    gen.generate(staging, seed=seed, applications_per_year=applications_per_year, keys_dir=lab.keys, key_seed=key_seed)
    roots, _ = anchor.fingerprints((staging / "root-of-trust.txt").read_text(encoding="utf-8"))
    admin = re.search(r"#\s*(\S+)", (staging / "root-of-trust.txt").read_text(encoding="utf-8").splitlines()[-1]).group(1)
    lab.git("config", "--unset-all", "jinqiu.rootKey", check=False)
    for fpr in sorted(roots):
        lab.git("config", "--add", "jinqiu.rootKey", fpr)
    files = sorted(_files(staging))
    trust = [rel for rel in files if anchor.is_trust(rel)]
    for rel in trust:
        lab.write(rel, (staging / rel).read_text(encoding="utf-8"))
    lab.commit("登记工会、审核人和活动（示例数据）", key=admin, date="2009-06-01")
    for rel in files:
        if rel not in trust:
            target = lab.data / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(staging / rel, target)
    lab.commit("填报申请（示例数据）", date="2011-08-12")
    shutil.rmtree(staging)
