"""A city's clear repository migrated into a new sealed one (issue 21, design §0 bullet 13): the demo
sample replayed as a real signed repository (real ssh-keygen keys, the root pinned), real age keys made
by `keys init`, a key repository of its own (git), `migrate` through the command line.

What is proved: every record's status in NEW equals its status in OLD; every record of the sealed years
is sealed (no ID number of theirs in any commit of NEW), the earlier years stay clear; the carry-over
map counts only with a good signature by a root administrator over its exact bytes (edited, unsigned or
signed by a reviewer: an error naming the file, and the carried approvals count for nothing); a later
change of a carried record makes its approvals stale as usual; an approval added afterwards over the
old v1 digest is not carried; bad input is refused in Chinese with nothing written."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from jinqiu import cli
from jinqiu.check import validate
from jinqiu.records import sealed
from jinqiu.sample import demo
from jinqiu.trust import carry, keyring, status, verify

ROOT = Path(__file__).resolve().parent.parent
SINCE = 2011
ID_NUMBER = re.compile(r'id_number: "?([0-9]{17}[0-9X])"?')


def run(*argv) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main([str(a) for a in argv], out, err)
    return code, out.getvalue(), err.getvalue()


def git(repo: Path, *args: str) -> str:
    p = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    return p.stdout


def statuses(repo: Path, roots) -> tuple[dict, list]:
    found, problems = verify.run(repo, repo / "data", display_root="data", root_keys=sorted(roots), use_cache=False)
    assert found.verified
    return {rel: (s.state, s.level, s.complete, s.verified) for rel, s in found.items()}, problems


def errors(problems, code=None) -> list[str]:
    return [p.text() for p in problems if p.severity == "error" and (code is None or p.code == code)]


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    base = tmp_path_factory.mktemp("migrate")
    subprocess.run([sys.executable, "-m", "jinqiu.sample", str(base / "sample"), "--applications", "20"], check=True,
                   capture_output=True, cwd=ROOT)
    lab = demo.build_sample(base / "sample", base / "old")  # OLD: the clear repository, its root pinned
    reviewers = validate.load(lab.data, "data").reviewers
    admin = next(rid for rid, r in reviewers.items() if r.get("admin") is True and r.get("level") == 3)
    ids = base / "identities"
    ids.mkdir()

    def age(who: str) -> str:
        code, out, err = run("keys", "init", "--out", ids / who, "--no-passphrase")
        assert code == 0, err
        return out.strip()

    members = "".join(f"- id: {rid}\n  unit: {r['unit']}\n  recipient: {age(rid)}\n  valid_from: \"2009-01-01\"\n"
                      for rid, r in sorted(reviewers.items()))
    setup = base / "加密设置.yaml"
    setup.write_text(f"since: {SINCE}\nretain_years: 5\nbuild: {age('build')}\nescrow: {age('escrow')}\n"
                     f"members:\n{members}groups: {{}}\n", encoding="utf-8")
    keys = base / "金秋密钥"
    subprocess.run(["git", "init", "-q", "-b", "main", str(keys)], check=True)
    new = base / "new"
    argv = ["migrate", lab.repo, new, "--sealing", setup, "--keys", keys, "--identity", ids / "build",
            "--admin-key", lab.keys / admin, "--today", "2011-06-01"]
    code, out, err = run(*argv)
    assert code == 0, out + err
    roots = set(git(lab.repo, "config", "--get-all", "jinqiu.rootKey").split())
    return {"lab": lab, "new": new, "keys": keys, "ids": ids, "admin": admin, "out": out, "roots": roots,
            "setup": setup, "argv": argv, "base": base}


def copy_of(city, tmp_path: Path) -> Path:
    """A copy of NEW to change (a clone: the history as pushed)."""
    repo = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(city["new"]), str(repo)], check=True)
    for k, v in (("user.name", "某人"), ("user.email", "x@example.cn"), ("commit.gpgsign", "false")):
        git(repo, "config", k, v)
    return repo


def test_every_status_is_the_same_and_the_sealed_years_hold_no_personal_value(city):
    old, new, roots = city["lab"].repo, city["new"], city["roots"]
    before, _ = statuses(old, roots)
    after, problems = statuses(new, roots)
    assert after == before and errors(problems) == []
    # and the days the old history proved: filed, each decision counted, paid (the site's timeline)
    days = {}
    for repo in (old, new):
        found, _ = verify.run(repo, repo / "data", display_root="data", root_keys=sorted(roots), use_cache=False)
        days[repo] = {rel: (s.filed_day, s.paid_day, tuple(p.day for p in s.proofs)) for rel, s in found.items()}
    assert days[new] == days[old] and any(d[1] for d in days[old].values())
    counted = [rel for rel, s in before.items() if rel.startswith(f"applications/{SINCE}") and s[0] != status.FILED]
    assert len(counted) >= 5 and any(before[rel][0] == status.PAID for rel in counted)
    assert f"个人信息自 {SINCE} 年度起" in git(new, "log", "--format=%s")
    # a new history: the trust data signed by the administrator, then the records (not signed: a signature
    # there would stand for any entry without its own), the root pinned as in OLD
    log = git(new, "log", "--format=%H %P").splitlines()
    assert len(log) == 2 and len(log[-1].split()) == 1
    assert "gpgsig" in git(new, "cat-file", "commit", log[-1].split()[0])
    assert "gpgsig" not in git(new, "cat-file", "commit", log[0].split()[0])
    assert set(git(new, "config", "--get-all", "jinqiu.rootKey").split()) == roots
    # the records of the sealed years are sealed in every commit of NEW; the earlier years stay clear
    every = git(new, "log", "-p", "--all")
    files = sorted((old / "data" / "applications").rglob("*.yaml"))
    # (a continuing student's numbers are in their earlier years' clear records too)
    earlier = {n for path in files if f"/{SINCE}/" not in path.as_posix() for n in ID_NUMBER.findall(path.read_text(encoding="utf-8"))}
    for path in files:
        numbers = ID_NUMBER.findall(path.read_text(encoding="utf-8"))
        rel = path.relative_to(old).as_posix()
        if f"/{SINCE}/" in rel:
            assert numbers and not [n for n in numbers if n in every and n not in earlier], rel
            assert sealed.is_sealed(validate.load(new / "data", "data", rels=[rel.removeprefix("data/")]).records[0].data)
        else:
            assert (new / rel).read_bytes() == path.read_bytes()
    # the union keys of the sealed year were made in the key repository, signed by the administrator
    assert sorted(p.name for p in (city["keys"] / str(SINCE)).iterdir())
    assert all(Path(f"{p}.sig").is_file() for p in (city["keys"] / str(SINCE)).glob("*.age"))
    # a member of a union's chain opens its record with their own key, through the keyrings
    cfg = sealed.load_config(new / "data")
    assert cfg.since == SINCE and cfg.groups[str(SINCE)]
    code, out, err = run("show", f"{new}/data/{counted[0]}", "--data", new / "data", "--identity", city["ids"] / "build", "--keys", city["keys"])
    assert code == 0 and "id_number" in out and "ENC[" not in out, out + err
    # the reviewers' own ID numbers are sealed too (to the build and escrow): check-sealed passes on NEW
    assert not ID_NUMBER.search((new / "data" / "reviewers.yaml").read_text(encoding="utf-8"))
    code, out, err = run("check-sealed", "--data", new / "data")
    assert code == 0, out + err


def test_the_map_counts_only_signed_by_a_root_administrator_over_its_exact_bytes(city, tmp_path):
    roots = city["roots"]
    before, _ = statuses(city["lab"].repo, roots)
    every = carry.parse((city["new"] / "data" / carry.MAP_FILE).read_bytes())
    assert set(c.rel for c in every.values()) == set(before)  # a line for every application (its filing day)
    carried = {i: c for i, c in every.items() if c.entries}
    assert carried and all(before[c.rel][0] != status.FILED for c in carried.values())
    assert [c for c in carried.values() if c.v1 != c.v2] and [c for c in carried.values() if c.v1 == c.v2]  # sealed, and clear
    repo = copy_of(city, tmp_path)
    path = repo / "data" / carry.MAP_FILE
    raw = path.read_bytes()
    lab = city["lab"]
    reviewer = next(rid for rid in sorted(validate.load(lab.data, "data").reviewers) if rid != city["admin"])
    for change, why in (
        (lambda: path.write_bytes(re.sub(rb'"paid": "[0-9-]+", ', b"", raw, count=1)), "改动过"),  # edited after signing
        (lambda: (repo / "data" / carry.SIG_FILE).unlink(), "没有管理员签名"),
        (lambda: (repo / "data" / carry.SIG_FILE).write_bytes(keyring_sign(lab.keys / reviewer, raw)), "不是信任根中的管理员密钥"),
    ):
        git(repo, "checkout", "-q", "--", "data")
        change()
        git(repo, "add", "-A")
        git(repo, "commit", "-qm", "改承接表")
        after, problems = statuses(repo, roots)
        found = errors(problems, "carry-over-invalid")
        assert found and why in found[0] and found[0].startswith(f"data/{carry.MAP_FILE}:1:"), found
        for c in carried.values():  # nothing it carries counts: each sealed carried record is only filed now
            assert after[c.rel][0] == (status.FILED if c.v1 != c.v2 else before[c.rel][0]), c.rel
        git(repo, "reset", "-q", "--hard", "origin/main")


def keyring_sign(private_key: Path, raw: bytes) -> bytes:
    """A good SSH signature by a key that is not an administrator's (a reviewer's), in the map's namespace."""
    p = subprocess.run(["ssh-keygen", "-q", "-Y", "sign", "-n", carry.NAMESPACE_CARRY, "-f", str(private_key)],
                       input=raw, capture_output=True, check=True)
    return p.stdout


def test_a_later_change_makes_a_carried_approval_stale_and_an_entry_added_over_v1_is_not_carried(city, tmp_path):
    roots = city["roots"]
    repo = copy_of(city, tmp_path)
    carried = {i: c for i, c in carry.parse((repo / "data" / carry.MAP_FILE).read_bytes()).items() if c.entries}
    approved = next(c for c in carried.values() if not c.paid and c.v1 != c.v2)  # a sealed one
    path = repo / "data" / approved.rel
    text = path.read_text(encoding="utf-8")
    school = re.search(r"(?m)^  school: (.*)$", text).group(1)
    path.write_text(text.replace(f"  school: {school}", "  school: 某某大学", 1), encoding="utf-8")
    git(repo, "commit", "-qam", "改了学校")
    after, _ = statuses(repo, roots)
    assert after[approved.rel][0] == status.STALE
    # a copy of a carried entry with another date is signed over v1 but listed nowhere: it counts for nothing
    git(repo, "reset", "-q", "--hard", "origin/main")
    before, _ = statuses(repo, roots)
    record = validate.load(repo / "data", "data", rels=[approved.rel]).records[0]
    first = record.data["approvals"][0]
    assert first["digest"] == approved.v1
    forged = {k: first[k] for k in ("level", "decision", "opinion", "reviewer", "digest")} | {"date": "2011-12-30"}
    from jinqiu.trust import approve
    from jinqiu.trust.entries import entry_payload

    rid = str(first["reviewer"])
    forged["signature"] = approve.detached_signature(
        approve.Signing("ssh", str(city["lab"].keys / rid), city["lab"].fingerprint(rid)), entry_payload(record.data["id"], forged))
    path = repo / "data" / approved.rel
    path.write_text(approve.append_entry(path.read_text(encoding="utf-8"), forged), encoding="utf-8")
    git(repo, "commit", "-qam", "补一条旧摘要的审批")
    after, problems = statuses(repo, roots)
    assert after[approved.rel] == before[approved.rel]
    assert [p for p in problems if p.code == "approval-digest-mismatch" and p.path == f"data/{approved.rel}"]


def test_bad_input_is_refused_in_chinese_and_nothing_is_written(city, tmp_path):
    argv = [str(a) for a in city["argv"]]
    keys_before = sorted(p.relative_to(city["keys"]).as_posix() for p in city["keys"].rglob("*") if ".git" not in p.parts)
    target = tmp_path / "new"

    def refused(argv, expected):
        code, out, err = run(*argv)
        assert code == 1 and expected in out and "没有迁移" in err, out + err
        assert not target.exists()
        assert sorted(p.relative_to(city["keys"]).as_posix() for p in city["keys"].rglob("*") if ".git" not in p.parts) == keys_before

    with_target = [*argv[:2], str(target), *argv[3:]]
    # the key repository already holds the sealed year's keyrings while the set-up has none
    refused(with_target, "已有 2011 年度")
    fresh = tmp_path / "keys"
    fresh.mkdir()
    with_keys = [a if a != str(city["keys"]) else str(fresh) for a in with_target]
    # a reviewer's key is not an administrator's of the root of trust
    reviewer = next(p for p in sorted(city["lab"].keys.glob("r-*")) if p.suffix != ".pub" and p.name != city["admin"])
    refused([*with_keys[:-4], "--admin-key", str(reviewer), *with_keys[-2:]], "不是信任根")
    # a set-up whose key is not an age key
    bad = tmp_path / "bad.yaml"
    bad.write_text(city["setup"].read_text(encoding="utf-8").replace("build: age1", "build: ssh-ed25519 AAAA", 1), encoding="utf-8")
    refused([a if a != str(city["setup"]) else str(bad) for a in with_keys], "build")
    # an identity that cannot open what it sealed (a reviewer's own key does not open every union)
    other = next(p for p in sorted(city["ids"].glob("r-*")) if re.search(r"-[0-9]{4}$", p.name))
    refused([a if a != str(city["ids"] / "build") else str(other) for a in with_keys], "打不开")
    # an old repository with uncommitted changes
    lab = city["lab"]
    (lab.data / "未提交.txt").write_text("x", encoding="utf-8")
    try:
        refused(with_keys, "未提交的改动")
    finally:
        (lab.data / "未提交.txt").unlink()
    assert list(fresh.iterdir()) == []


def test_a_chain_carried_half_way_goes_on_in_the_new_repository(city, tmp_path):
    """A record approved at level 2 in OLD is approved at level 3 in NEW by the next reviewer, through
    approve: its rounds are read across the migration (validate too), and verify counts the chain."""
    roots, lab = city["roots"], city["lab"]
    repo = copy_of(city, tmp_path)
    for fpr in sorted(roots):
        git(repo, "config", "--add", "jinqiu.rootKey", fpr)
    before, _ = statuses(repo, roots)
    carried = {i: c for i, c in carry.parse((repo / "data" / carry.MAP_FILE).read_bytes()).items() if c.entries}
    rel = next(c.rel for c in carried.values() if before[c.rel][:3] == (status.APPROVED, 2, False))
    reviewers = validate.load(repo / "data", "data").reviewers
    rid = next(r for r, v in sorted(reviewers.items()) if v.get("level") == 3)
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("GIT_")} | lab.signing_env(rid)
    p = subprocess.run([sys.executable, str(ROOT / "build.py"), "history", f"data/{rel}"], cwd=repo, env=env, capture_output=True, text=True)
    assert p.returncode == 0 and "现行的一轮" in p.stdout and "已失效" not in p.stdout, p.stdout + p.stderr
    p = subprocess.run([sys.executable, str(ROOT / "build.py"), "approve", f"data/{rel}", "--opinion", "同意资助"],
                       cwd=repo, env=env, capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    after, problems = statuses(repo, roots)
    assert after[rel][:3] == (status.APPROVED, 3, True), [x.text() for x in problems if x.path == f"data/{rel}"]
    code, out, err = run("validate", "--data", repo / "data")
    assert code == 0 and "0 个错误" in err, out + err


def test_a_key_revoked_after_it_signed_is_judged_on_the_day_it_signed(city, tmp_path):
    """A reviewer left after approving: OLD revokes the key (an administrator's signed commit) and their
    approvals made before still count there; after the migration they count in NEW too (the map dates each
    entry by the day OLD's history proved), while the key counts for nothing new."""
    lab, roots = city["lab"], city["roots"]
    old = tmp_path / "old"
    subprocess.run(["git", "clone", "-q", str(lab.repo), str(old)], check=True)
    for fpr in sorted(roots):
        git(old, "config", "--add", "jinqiu.rootKey", fpr)
    carried = {i: c for i, c in carry.parse((city["new"] / "data" / carry.MAP_FILE).read_bytes()).items() if c.entries}
    target = next(c for c in carried.values() if c.paid and c.v1 != c.v2)
    record = validate.load(old / "data", "data", rels=[target.rel]).records[0]
    rid = str(record.data["approvals"][0]["reviewer"])
    text = (old / "data" / "reviewers.yaml").read_text(encoding="utf-8")
    head, _, rest = text.partition(f"- id: {rid}\n")
    block, nxt, tail = rest.partition("\n- id: ")
    block = block.replace('    valid_from: "2000-01-01"', '    valid_from: "2000-01-01"\n    revoked_on: "2012-01-01"', 1)
    (old / "data" / "reviewers.yaml").write_text(head + f"- id: {rid}\n" + block + nxt + tail, encoding="utf-8")
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("GIT_")} | lab.signing_env(city["admin"], "2012-01-02")
    subprocess.run(["git", "-C", str(old), "commit", "-qaS", "-m", f"吊销 {rid} 的密钥"], env=env, check=True)
    before, problems = statuses(old, roots)
    assert errors(problems) == [] and before[target.rel][0] == status.PAID
    keys = tmp_path / "keys"
    keys.mkdir()
    argv = [a if a != city["keys"] else keys for a in city["argv"]]
    argv[1], argv[2] = old, tmp_path / "new"
    code, out, err = run(*argv)
    assert code == 0, out + err
    after, problems = statuses(tmp_path / "new", roots)
    assert after == before and errors(problems) == []


def test_an_approval_proved_only_by_its_commit_cannot_carry_and_says_why(city, tmp_path):
    """An entry without a detached signature (its commit signed) holds in OLD; the new history has no
    such commit, so migrate refuses, says which record and why, and writes nothing."""
    lab, roots = city["lab"], city["roots"]
    old = tmp_path / "old"
    subprocess.run(["git", "clone", "-q", str(lab.repo), str(old)], check=True)
    for fpr in sorted(roots):
        git(old, "config", "--add", "jinqiu.rootKey", fpr)
    before, _ = statuses(old, roots)
    carried = {i: c for i, c in carry.parse((city["new"] / "data" / carry.MAP_FILE).read_bytes()).items() if c.entries}
    rel = next(c.rel for c in carried.values() if c.v1 != c.v2 and before[c.rel][:3] == (status.APPROVED, 2, False))
    record = validate.load(old / "data", "data", rels=[rel]).records[0]
    reviewers = validate.load(old / "data", "data").reviewers
    rid = next(r for r, v in sorted(reviewers.items()) if v.get("level") == 3 and r != city["admin"])
    from jinqiu.trust import approve, digest

    entry = {"level": 3, "decision": "approve", "opinion": "同意资助", "reviewer": rid, "date": "2011-09-01",
             "digest": digest.of(record.data)}
    path = old / "data" / rel
    path.write_text(approve.append_entry(path.read_text(encoding="utf-8"), entry), encoding="utf-8")
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("GIT_")} | lab.signing_env(rid, "2011-09-01")
    subprocess.run(["git", "-C", str(old), "commit", "-qaS", "-m", "第 3 级审批（只签了提交）"], env=env, check=True)
    assert statuses(old, roots)[0][rel][:3] == (status.APPROVED, 3, True)
    keys = tmp_path / "keys"
    keys.mkdir()
    argv = [a if a != city["keys"] else keys for a in city["argv"]]
    argv[1], argv[2] = old, tmp_path / "new"
    code, out, err = run(*argv)
    assert code == 1 and f"data/{rel}: 旧仓库 市总工会审批通过（审批完成）" in out and "approve 重新审批" in out, out + err
    assert not (tmp_path / "new").exists() and list(keys.iterdir()) == []
