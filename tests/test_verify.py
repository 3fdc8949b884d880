"""verify against real git repositories with real ssh-keygen keys: one test per scenario of the issue."""

from __future__ import annotations

import re
import subprocess

import pytest

from jinqiu.check import validate
from jinqiu.sample import demo
from jinqiu.trust import approve, digest, entries, status, verify
from jinqiu.problems import ERROR, WARNING

APP = "applications/2011/dl-zs-0001/2011-dl-zs-0001-001.yaml"
APP2 = "applications/2011/dl-zs-0001/2011-dl-zs-0001-002.yaml"
LEVEL_REVIEWER = {1: "r-zs1-01", 2: "r-zs-01", 3: "r-dl-01"}


@pytest.fixture
def lab(tmp_path):
    lab = demo.Lab(tmp_path)
    demo.world(lab)
    lab.write(APP, demo.application_yaml("2011-dl-zs-0001-001", "dl-zs-0001", worker_seq=1))
    lab.write(APP2, demo.application_yaml("2011-dl-zs-0001-002", "dl-zs-0001", worker_seq=2, student="李小红"))
    lab.commit("File two applications", date="2011-07-20")
    return lab


def entry(lab, rel, level, reviewer, date="2011-07-21", decision="approve", digest_of=None):
    """Append an entry to a file (no commit); digest of the file's content now unless given."""
    data = validate.load(lab.data, "data")
    rec = next(r for r in data.applications if r.rel == (digest_of or rel))
    e = {"level": level, "decision": decision, "opinion": "情况属实，同意", "reviewer": reviewer, "date": date,
         "digest": digest.of(rec.data)}
    path = lab.data / rel
    path.write_text(approve.append_entry(path.read_text(encoding="utf-8"), e), encoding="utf-8")
    return e


def sign_entry(lab, rel, level, reviewer=None, key=None, date="2011-07-21", **kw):
    reviewer = reviewer or LEVEL_REVIEWER[level]
    entry(lab, rel, level, reviewer, date=date, **kw)
    return lab.commit(f"Approve at level {level}", key=key or reviewer, date=date)


def run(lab, **kw):
    return verify.run(None, lab.data, display_root="data", use_cache=False, **kw)


def entry_line(lab, rel, n):
    """1-based line of the n-th (0-based) approval entry in the file."""
    lines = lab.read(rel).splitlines()
    starts = [i + 1 for i, line in enumerate(lines) if line.startswith("- level:")]
    return starts[n]


def find(problems, code, rel=APP):
    found = [p for p in problems if p.code == code and p.path == f"data/{rel}"]
    assert found, f"no {code} in {[p.text() for p in problems]}"
    return found[0]


def assert_problem(lab, problems, code, n, *words, rel=APP, severity=ERROR):
    p = find(problems, code, rel)
    assert p.line == entry_line(lab, rel, n), p.text()
    assert p.severity == severity
    for w in words:
        assert w in p.message, p.text()
    assert p.text().startswith(f"data/{rel}:{p.line}: {severity}: ")
    return p


def test_fully_signed_chain_verifies(lab):
    for level, date in ((1, "2011-07-21"), (2, "2011-07-22"), (3, "2011-07-23")):
        sign_entry(lab, APP, level, date=date)
    statuses, problems = run(lab)
    assert problems == []
    assert statuses[APP] == status.Status(status.APPROVED, 3, True, True)
    assert statuses[APP2].state == status.FILED


def test_unsigned(lab):
    entry(lab, APP, 1, "r-zs1-01")
    lab.commit("Approve without signing", date="2011-07-21")
    statuses, problems = run(lab)
    assert_problem(lab, problems, "approval-unsigned", 0, "没有签名")
    assert statuses[APP].state == status.FILED


def test_without_a_pinned_root_nothing_counts(lab):
    """A fresh clone with no root pinned: even a properly signed chain is not counted as verified,
    and the root file in the data (not a TEST root) pins nothing on its own."""
    lab.git("config", "--unset-all", "jinqiu.rootKey")
    sign_entry(lab, APP, 1)
    entry(lab, APP2, 1, "r-zs1-01")
    lab.commit("Approve without signing", date="2011-07-21")
    statuses, problems = run(lab)
    assert not any(p.severity == ERROR for p in problems), [p.text() for p in problems]
    assert "任何审批都不计为已核验" in find(problems, "registry-no-root", "reviewers.yaml").message
    assert "单凭它不能作为信任根" in find(problems, "root-not-pinned", "root-of-trust.txt").message
    assert statuses[APP] == status.Status(status.FILED) and statuses[APP2].state == status.FILED
    assert statuses.verified is False and statuses.trust == "none"


def test_unregistered_key(lab):
    sign_entry(lab, APP, 1, key="stranger")
    _, problems = run(lab)
    assert_problem(lab, problems, "approval-bad-signature", 0, lab.fingerprint("stranger"), "未在审核人登记中登记")


def test_tampered_commit(lab):
    sign_entry(lab, APP, 1)
    raw = subprocess.run(["git", "-C", str(lab.repo), "cat-file", "commit", "HEAD"], capture_output=True).stdout
    forged = raw.replace(b"Approve at level 1", b"Approve at level 1 (edited)")
    oid = subprocess.run(["git", "-C", str(lab.repo), "hash-object", "-t", "commit", "-w", "--stdin"],
                         input=forged, capture_output=True, check=True).stdout.decode().strip()
    lab.git("reset", "-q", "--hard", oid)
    _, problems = run(lab)
    assert_problem(lab, problems, "approval-bad-signature", 0, "签名无效", "签名与内容不符")


def _world_with_key(tmp_path, rid, **validity):
    lab = demo.Lab(tmp_path)
    demo.world(lab, key_overrides={rid: [{"public_key": lab.key(rid), "valid_from": "2011-01-01", **validity}]})
    lab.write(APP, demo.application_yaml("2011-dl-zs-0001-001", "dl-zs-0001"))
    lab.commit("File", date="2011-07-20")
    return lab


def test_expired_key(tmp_path):
    lab = _world_with_key(tmp_path, "r-zs1-01", valid_until="2011-07-01")
    sign_entry(lab, APP, 1, date="2011-07-21")
    _, problems = run(lab)
    assert_problem(lab, problems, "approval-key-invalid", 0, "r-zs1-01", "已于 2011-07-01 失效")


def test_revoked_key(tmp_path):
    lab = _world_with_key(tmp_path, "r-zs1-01", revoked_on="2011-07-10")
    sign_entry(lab, APP, 1, date="2011-07-21")
    statuses, problems = run(lab)
    assert_problem(lab, problems, "approval-key-invalid", 0, "已于 2011-07-10 吊销")
    assert statuses[APP].state == status.FILED


def test_backdated_commit_with_expired_key(tmp_path):
    lab = _world_with_key(tmp_path, "r-zs1-01", valid_until="2011-07-15")
    # The application was filed on 07-20; the approval claims 07-10, before the key expired.
    sign_entry(lab, APP, 1, date="2011-07-10")
    _, problems = run(lab)
    assert_problem(lab, problems, "approval-key-invalid", 0, "已于 2011-07-15 失效", "提交自称 2011-07-10", "2011-07-20")


def test_wrong_level(lab):
    sign_entry(lab, APP, 1)
    sign_entry(lab, APP, 2, reviewer="r-zs1-01", date="2011-07-22")
    _, problems = run(lab)
    assert_problem(lab, problems, "approval-wrong-level", 1, "r-zs1-01", "第 1 级", "第 2 级")


def test_wrong_union(lab):
    sign_entry(lab, APP, 1, reviewer="r-zs2-01")
    _, problems = run(lab)
    assert_problem(lab, problems, "approval-wrong-union", 0, "dl-zs-0001", "dl-zs-0002")


def test_wrong_union_at_district_level(lab):
    sign_entry(lab, APP, 1)
    sign_entry(lab, APP, 2, reviewer="r-xg-01", date="2011-07-22")
    statuses, problems = run(lab)
    assert_problem(lab, problems, "approval-wrong-union", 1, "dl-zs", "r-xg-01")
    assert statuses[APP] == status.Status(status.APPROVED, 1, False, True)


def test_skipped_level(lab):
    sign_entry(lab, APP, 1)
    sign_entry(lab, APP, 3, date="2011-07-22")
    statuses, problems = run(lab)
    assert_problem(lab, problems, "approval-skipped-level", 1, "跳过了第 2 级")
    assert statuses[APP].level == 1


def test_repeated_level(lab):
    sign_entry(lab, APP, 1)
    sign_entry(lab, APP, 1, date="2011-07-22")
    _, problems = run(lab)
    assert_problem(lab, problems, "approval-repeated-level", 1, "第 1 级审批重复")


def test_chain_past_the_funding_union(tmp_path):
    lab = demo.Lab(tmp_path)
    demo.world(lab)
    lab.write(APP, demo.application_yaml("2011-dl-zs-0001-001", "dl-zs-0001", funding_unit="dl-zs"))
    lab.commit("File", date="2011-07-20")
    for level, date in ((1, "2011-07-21"), (2, "2011-07-22"), (3, "2011-07-23")):
        sign_entry(lab, APP, level, date=date)
    statuses, problems = run(lab)
    assert_problem(lab, problems, "approval-past-funding", 2, "dl-zs", "第 2 级为止")
    assert statuses[APP] == status.Status(status.APPROVED, 2, True, True)


def test_self_approval(lab):
    reviewer_id = validate.load(lab.data, "data").reviewers["r-zs1-01"]["id_number"]
    text = lab.read(APP2)
    lab.write(APP2, re.sub(r'(?m)^  id_number: ".*"$', f'  id_number: "{reviewer_id}"', text, count=1))
    lab.commit("Correct the worker's ID number", date="2011-07-20")
    sign_entry(lab, APP2, 1)
    _, problems = run(lab)
    assert_problem(lab, problems, "approval-self", 0, "r-zs1-01", "本人或家属", rel=APP2)


def test_edit_after_approval_is_stale(lab):
    sign_entry(lab, APP, 1)
    sign_entry(lab, APP, 2, date="2011-07-22")
    lab.write(APP, lab.read(APP).replace("amount: 5000", "amount: 8000"))
    lab.commit("Raise the amount", date="2011-07-23")
    statuses, problems = run(lab)
    assert_problem(lab, problems, "approval-stale", 0, "改动", "第 1 级审批失效", severity=WARNING)
    assert statuses[APP] == status.Status(status.STALE, 0, False, True)


def test_approval_copied_to_another_record(lab):
    sign_entry(lab, APP, 1)
    block = lab.read(APP).split("approvals:\n", 1)[1]
    lab.write(APP2, lab.read(APP2).replace("approvals: []\n", "approvals:\n" + block))
    lab.commit("Copy", key="r-zs1-01", date="2011-07-22")
    statuses, problems = run(lab)
    assert_problem(lab, problems, "approval-copied", 0, APP, rel=APP2)
    assert statuses[APP2].state == status.FILED
    assert statuses[APP].level == 1


def test_squash_merge_drops_signatures(lab):
    lab.git("checkout", "-q", "-b", "review")
    sign_entry(lab, APP, 1)
    sign_entry(lab, APP, 2, date="2011-07-22")
    lab.git("checkout", "-q", "main")
    lab.git("merge", "-q", "--squash", "review")
    lab.commit("Approvals (#12)", date="2011-07-23")
    _, problems = run(lab)
    p = assert_problem(lab, problems, "approval-unsigned", 0, "squash 或 rebase", "merge commit")
    assert p.severity == ERROR


def test_merge_commit_keeps_signatures(lab):
    lab.git("checkout", "-q", "-b", "review")
    sign_entry(lab, APP, 1)
    lab.git("checkout", "-q", "main")
    lab.write(APP2, lab.read(APP2).replace("amount: 5000", "amount: 4000"))
    lab.commit("Meanwhile on main", date="2011-07-21")
    lab.git("merge", "-q", "--no-ff", "-m", "Merge review", "review", env={"GIT_COMMITTER_DATE": "2011-07-22T10:00:00+08:00"})
    statuses, problems = run(lab)
    assert problems == []
    assert statuses[APP].level == 1


def test_registry_change_by_non_admin(lab):
    lab.write("reviewers.yaml", lab.read("reviewers.yaml").replace("name: 赵敏", "name: 赵敏敏"))
    lab.commit("Rename a reviewer", key="r-zs-01", date="2011-07-21")
    _, problems = run(lab)
    p = find(problems, "trust-unauthorised", "reviewers.yaml")
    assert p.line >= 1 and "r-zs-01" in p.message and "不是修改前登记在册的市总工会管理员" in p.message
    assert p.severity == ERROR


def test_registry_change_by_admin_is_fine_and_new_admin_needs_the_old_one(lab):
    text = lab.read("reviewers.yaml").replace("name: 赵敏\n  unit: dl\n  level: 3\n", "name: 赵敏\n  unit: dl\n  level: 3\n  admin: true\n")
    lab.write("reviewers.yaml", text)
    lab.commit("Make r-dl-02 an administrator", key="r-dl-02", date="2011-07-21")  # not yet admin: refused
    lab.write("reviewers.yaml", text.replace("name: 赵敏敏", "name: 赵敏"))
    _, problems = run(lab)
    assert sorted(p.code for p in problems) == ["trust-not-in-force", "trust-unauthorised"]
    lab.git("reset", "-q", "--hard", "HEAD~1")
    lab.write("reviewers.yaml", text)
    lab.commit("Make r-dl-02 an administrator", key="r-dl-01", date="2011-07-21")
    lab.write("reviewers.yaml", text.replace("name: 李建华", "name: 李建国"))
    lab.commit("Rename", key="r-dl-02", date="2011-07-22")
    _, problems = run(lab)
    assert problems == []


def test_registry_change_and_approval_in_one_commit(lab):
    lab.write("reviewers.yaml", lab.read("reviewers.yaml").replace("name: 赵敏", "name: 赵敏敏"))
    entry(lab, APP, 3, "r-dl-01")
    lab.commit("Both at once", key="r-dl-01", date="2011-07-21")
    _, problems = run(lab)
    assert find(problems, "registry-with-approval", "reviewers.yaml")
    assert_problem(lab, problems, "approval-with-registry-change", 0, "同时修改了审核人登记和审批")


def test_author_name_of_one_reviewer_on_anothers_signature(lab):
    entry(lab, APP, 1, "r-zs1-01")
    lab.commit("Approve", key="r-zs2-01", author="张伟", date="2011-07-21")
    statuses, problems = run(lab)
    assert_problem(lab, problems, "approval-signer-mismatch", 0, "r-zs1-01", "属于 r-zs2-01", "提交作者写的是“张伟”")
    assert statuses[APP].state == status.FILED


def test_rsa_and_ecdsa_keys(tmp_path):
    lab = demo.Lab(tmp_path)
    demo.world(lab, key_overrides={"r-zs1-01": [{"public_key": lab.key("rsa", "rsa")}],
                                   "r-zs-01": [{"public_key": lab.key("ec", "ecdsa")}]})
    lab.write(APP, demo.application_yaml("2011-dl-zs-0001-001", "dl-zs-0001"))
    lab.commit("File", date="2011-07-20")
    sign_entry(lab, APP, 1, key="rsa")
    sign_entry(lab, APP, 2, key="ec", date="2011-07-22")
    statuses, problems = run(lab)
    assert problems == []
    assert statuses[APP].level == 2


def test_not_a_git_repository(tmp_path):
    lab = demo.Lab(tmp_path)
    demo.world(lab)
    lab.write(APP, demo.application_yaml("2011-dl-zs-0001-001", "dl-zs-0001"))
    entry(lab, APP, 1, "r-zs1-01")
    plain = tmp_path / "plain"
    subprocess.run(["cp", "-r", str(lab.data), str(plain)], check=True)
    statuses, problems = verify.run(None, plain, display_root="data", use_cache=False)
    assert not any(p.severity == ERROR for p in problems)
    assert find(problems, "approval-no-git").text().startswith(f"data/{APP}:")
    assert statuses[APP].state == status.FILED


def test_second_run_uses_the_cache(lab):
    sign_entry(lab, APP, 1)
    first = verify.run(None, lab.data, display_root="data")
    assert list((lab.repo / ".git" / "jinqiu-cache").glob("verify-*.json"))
    again = verify.run(None, lab.data, display_root="data")
    assert again == first
    lab.write(APP, lab.read(APP).replace("amount: 5000", "amount: 8000"))  # uncommitted: no cache
    statuses, problems = verify.run(None, lab.data, display_root="data")
    assert statuses[APP].state == status.STALE


def test_gpg_signed_approval(tmp_path):
    gnupg = tmp_path / "gnupg"
    gnupg.mkdir(mode=0o700)
    env = {"GNUPGHOME": str(gnupg)}
    subprocess.run(["gpg", "--batch", "--passphrase", "", "--quick-gen-key", "TEST KEY 张伟 <test@jinqiu.invalid>",
                    "ed25519", "sign", "never"], env=env, check=True, capture_output=True)
    out = subprocess.run(["gpg", "--with-colons", "--fingerprint"], env=env, capture_output=True, text=True).stdout
    fpr = next(line.split(":")[9] for line in out.splitlines() if line.startswith("fpr:"))
    armored = subprocess.run(["gpg", "--armor", "--export", fpr], env=env, capture_output=True, text=True).stdout
    lab = demo.Lab(tmp_path / "w")
    demo.world(lab)
    block = "\n".join("      " + line for line in armored.strip().splitlines())
    text = lab.read("reviewers.yaml").replace(
        "- id: r-zs1-01", "- id: r-zs1-01", 1)
    head, rest = text.split("- id: r-zs1-01", 1)
    rest = re.sub(r"(?m)^  keys:\n", "  keys:\n  - type: gpg\n    public_key: |\n" + block.replace("      ", "      ", 1)
                  .replace("\n      ", "\n      ") + f"\n    fingerprint: {fpr}\n    valid_from: \"2011-01-01\"\n", rest, count=1)
    lab.write("reviewers.yaml", head + "- id: r-zs1-01" + rest)
    lab.commit("Add a GPG key", key="r-dl-01", date="2011-07-01")
    lab.write(APP, demo.application_yaml("2011-dl-zs-0001-001", "dl-zs-0001"))
    lab.commit("File", date="2011-07-20")
    entry(lab, APP, 1, "r-zs1-01")
    lab.git("add", "-A")
    lab.git("-c", "gpg.format=openpgp", "-c", f"user.signingkey={fpr}", "commit", "-q", "-S", "-m", "Approve (gpg)",
            env={**env, "GIT_COMMITTER_DATE": "2011-07-21T10:00:00+08:00"})
    statuses, problems = run(lab)
    assert problems == [], [p.text() for p in problems]
    assert statuses[APP].level == 1
    # the same signature claimed for another reviewer
    entry(lab, APP, 2, "r-zs-01", date="2011-07-22")
    lab.git("add", "-A")
    lab.git("-c", "gpg.format=openpgp", "-c", f"user.signingkey={fpr}", "commit", "-q", "-S", "-m", "Approve (gpg)",
            env={**env, "GIT_COMMITTER_DATE": "2011-07-22T10:00:00+08:00"})
    _, problems = run(lab)
    assert_problem(lab, problems, "approval-signer-mismatch", 1, "属于 r-zs1-01")


def test_hand_indented_approvals_are_found_by_their_values(lab):
    e = entry(lab, APP, 1, "r-zs1-01")
    text = lab.read(APP)
    head, block = text.split("approvals:\n", 1)
    lab.write(APP, head + "approvals:\n" + "".join("  " + line + "\n" for line in block.splitlines()))
    lab.commit("Approve (indented by hand)", key="r-zs1-01", date="2011-07-21")
    assert "  - level: 1" in lab.read(APP) and e["reviewer"] in lab.read(APP)
    statuses, problems = run(lab)
    assert problems == []
    assert statuses[APP].level == 1


def test_an_entrys_identity_text_takes_the_short_way_only_when_it_is_the_same():
    """entries.entry_text: the entry's lines without trailing blanks or blank lines; the short way
    (the chunk as it is) must give exactly what splitting the lines gives, whatever the spacing."""
    import random

    def slow(chunk):
        return b"\n".join(line.rstrip() for line in chunk.splitlines() if line.strip())

    rng = random.Random(12)
    parts = [b"a", b" ", b"\t", b"\n", b"\r", b"\x0b", b"\x0c", b"- ", b"x: y", b"\n\n", b"  ", b"\r\n"]
    for _ in range(30000):
        chunk = b"".join(rng.choice(parts) for _ in range(rng.randint(0, 12)))
        assert entries.entry_text(chunk) == slow(chunk), chunk
    assert entries.entry_text(b"- level: 1\n  reviewer: r\n\n") == b"- level: 1\n  reviewer: r"
