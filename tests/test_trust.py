"""The trust model (docs/trust.md) against real git repositories and real ssh-keygen keys: trust data
changes only by an administrator's signature, merges included; nothing counts without a pinned
root; revocation by the commit graph. Each test is one hole of the trust issue, as an attacker with
write access to the repository would try it."""

from __future__ import annotations

import pytest

from jinqiu.sample import demo
from jinqiu.trust import status, verify
from jinqiu.problems import ERROR

from test_verify import APP, entry, find, lab, run, sign_entry  # noqa: F401  (lab is a fixture)

ROOT = "root-of-trust.txt"


def add_key(lab, rid, key_name):
    """The registry text with one more key for reviewer rid (registered from 2011-01-01)."""
    text = lab.read("reviewers.yaml")
    head, rest = text.split(f"- id: {rid}\n", 1)
    block, sep, tail = rest.partition("\n- id: ")
    block += (f"\n  - type: ssh\n    public_key: {lab.key(key_name)}\n    valid_from: \"2011-01-01\"")
    return head + f"- id: {rid}\n" + block + sep + tail


def full_chain(lab, key=None, rel=APP):
    for level, date in ((1, "2011-07-21"), (2, "2011-07-22"), (3, "2011-07-23")):
        sign_entry(lab, rel, level, key=key, date=date)


def errors(problems):
    return [p for p in problems if p.severity == ERROR]


def test_own_key_added_in_an_unsigned_commit_counts_for_nothing(lab):
    """Hole 1: anyone adds their own key to the registry in an unsigned commit and signs a chain."""
    for n, rid in enumerate(("r-zs1-01", "r-zs-01", "r-dl-01"), 1):
        lab.write("reviewers.yaml", add_key(lab, rid, f"mallory{n}"))
    lab.commit("Add keys", date="2011-07-20")
    for level, date in ((1, "2011-07-21"), (2, "2011-07-22"), (3, "2011-07-23")):
        sign_entry(lab, APP, level, key=f"mallory{level}", date=date)
    statuses, problems = run(lab)
    p = find(problems, "trust-unauthorised", "reviewers.yaml")
    assert p.severity == ERROR and "没有签名" in p.message and "审核人登记" in p.message
    assert statuses[APP].state == status.FILED and not statuses[APP].verified
    assert statuses.verified is False


def test_unsigned_registry_change_blocks_every_approval_until_an_admin_signs(lab):
    """Holes 1 and 4: while the trust data in force is not an admin-signed version nothing counts;
    an administrator's signed correction restores it, and the old change is then a warning."""
    full_chain(lab)
    statuses, problems = run(lab)
    assert errors(problems) == [] and statuses[APP].level == 3 and statuses.verified
    original = lab.read("reviewers.yaml")
    lab.write("reviewers.yaml", original.replace("name: 孙海", "name: 孙海涛"))
    lab.commit("Rename", date="2011-07-24")
    statuses, problems = run(lab)
    assert find(problems, "trust-not-in-force", "reviewers.yaml").severity == ERROR
    assert statuses[APP].state == status.FILED and statuses.verified is False
    lab.write("reviewers.yaml", original)
    lab.commit("Undo the unsigned rename", key="r-dl-01", date="2011-07-25")
    statuses, problems = run(lab)
    assert errors(problems) == [], [p.text() for p in problems]
    assert find(problems, "trust-unauthorised", "reviewers.yaml").severity == "warning"
    assert statuses[APP].level == 3 and statuses.verified


def test_deleting_the_root_file_with_a_registry_change(lab):
    """Hole 2: the root file deleted in an unsigned commit together with a registry change."""
    for where in (lab.repo / ROOT, lab.data / ROOT):  # wherever the root file is kept
        if where.exists():
            where.unlink()
    lab.write("reviewers.yaml", add_key(lab, "r-zs1-01", "mallory"))
    lab.commit("Tidy up", date="2011-07-20")
    sign_entry(lab, APP, 1, key="mallory")
    statuses, problems = run(lab)
    p = find(problems, "trust-unauthorised", "reviewers.yaml")
    assert p.severity == ERROR and "信任根文件 root-of-trust.txt" in p.message and "没有签名" in p.message
    assert statuses[APP].state == status.FILED


def _evil_merge(lab, signer=None):
    """A branch that changes nothing of the registry, merged with a merge commit whose result adds a
    key: the merge differs from both parents."""
    lab.git("checkout", "-q", "-b", "topic")
    lab.write("applications/2011/dl-zs-0001/2011-dl-zs-0001-001.yaml", lab.read(APP).replace("amount: 5000", "amount: 4500"))
    lab.commit("Lower the amount", date="2011-07-20")
    lab.git("checkout", "-q", "main")
    lab.write(APP.replace("001.yaml", "002.yaml"), lab.read(APP.replace("001.yaml", "002.yaml")).replace("amount: 5000", "amount: 4800"))
    lab.commit("Meanwhile on main", date="2011-07-20")
    lab.git("merge", "-q", "--no-ff", "--no-commit", "topic", env={"GIT_COMMITTER_DATE": "2011-07-20T12:00:00+08:00"})
    lab.write("reviewers.yaml", add_key(lab, "r-zs1-01", "mallory"))
    return lab.commit("Merge topic", key=signer, date="2011-07-20T12:00:00+08:00")


@pytest.mark.parametrize("pin", ["config", "--root-key"])
def test_registry_change_inside_a_merge_commit(lab, pin):
    """Hole 3: an evil merge changes the registry; found with the root pinned in git config or on
    the command line."""
    kw = {}
    if pin == "--root-key":
        lab.git("config", "--unset-all", "jinqiu.rootKey", check=False)
        kw = {"root_keys": [lab.fingerprint("r-dl-01")]}
    merge = _evil_merge(lab, signer="r-zs-01")
    sign_entry(lab, APP, 1, key="mallory")
    statuses, problems = run(lab, **kw)
    p = find(problems, "trust-unauthorised", "reviewers.yaml")
    assert p.severity == ERROR and f"合并提交 {merge[:10]}" in p.message and "r-zs-01" in p.message
    assert statuses[APP].state == status.FILED


def test_registry_change_inside_a_merge_signed_by_an_admin_holds(lab):
    _evil_merge(lab, signer="r-dl-01")
    sign_entry(lab, APP, 1, key="mallory")
    statuses, problems = run(lab)
    assert errors(problems) == [], [p.text() for p in problems]
    assert statuses[APP].level == 1


def test_union_moved_under_another_district_unsigned(lab):
    """Hole 4: units.yaml is trust data: moving a grassroots union under another district in an
    unsigned commit does not let that district's reviewer approve."""
    lab.write("units.yaml", lab.read("units.yaml").replace("name: 大连港集团工会\n  kind: enterprise\n  parent: dl-zs",
                                                          "name: 大连港集团工会\n  kind: enterprise\n  parent: dl-xg"))
    lab.commit("Move a union", date="2011-07-20")
    sign_entry(lab, APP, 1)
    sign_entry(lab, APP, 2, reviewer="r-xg-01", date="2011-07-22")
    statuses, problems = run(lab)
    p = find(problems, "trust-unauthorised", "units.yaml")
    assert p.severity == ERROR and "工会名录 units.yaml" in p.message
    assert statuses[APP].state == status.FILED


def test_campaign_amounts_are_trust_data(lab):
    """Hole 4: the campaign file (amounts, deadlines, the 公示 window) changes only by an admin."""
    lab.write("campaigns/2011.yaml", "year: 2011\n")
    lab.commit("Campaign", key="r-dl-01", date="2011-07-01")
    sign_entry(lab, APP, 1)
    statuses, problems = run(lab)
    assert errors(problems) == [] and statuses[APP].level == 1
    lab.write("campaigns/2011.yaml", "year: 2011\n# amounts raised\n")
    lab.commit("Raise the amounts", key="r-zs-01", date="2011-07-22")
    statuses, problems = run(lab)
    p = find(problems, "trust-unauthorised", "campaigns/2011.yaml")
    assert "活动文件" in p.message and "r-zs-01" in p.message
    assert statuses[APP].state == status.FILED


def test_uncommitted_trust_change_counts_for_nothing(lab):
    sign_entry(lab, APP, 1)
    lab.write("units.yaml", lab.read("units.yaml").replace("parent: dl-zs\n", "parent: dl-xg\n", 1))
    statuses, problems = run(lab)
    assert find(problems, "trust-uncommitted", "units.yaml").severity == ERROR
    assert statuses[APP].state == status.FILED


def test_merge_may_not_roll_back_a_revocation(lab):
    """A branch forked before an admin-signed revocation keeps the old registry; a merge that takes
    the branch's registry over main's drops the revocation: it needs an admin's signature."""
    lab.git("checkout", "-q", "-b", "old")
    lab.write(APP, lab.read(APP).replace("amount: 5000", "amount: 4500"))
    lab.commit("Lower the amount", date="2011-07-21")
    lab.git("checkout", "-q", "main")
    text = lab.read("reviewers.yaml")
    revoked = text.replace('valid_from: "2011-01-01"', 'valid_from: "2011-01-01"\n    revoked_on: "2011-07-25"', 1)
    lab.write("reviewers.yaml", revoked)
    lab.commit("Revoke a key", key="r-dl-01", date="2011-07-25")
    lab.git("merge", "-q", "--no-ff", "--no-commit", "old", env={"GIT_COMMITTER_DATE": "2011-07-26T10:00:00+08:00"}, check=False)
    lab.write("reviewers.yaml", text)
    lab.commit("Merge old", date="2011-07-26")
    statuses, problems = run(lab)
    assert "合并提交" in find(problems, "trust-unauthorised", "reviewers.yaml").message
    assert statuses.verified is False


def test_branch_that_kept_the_old_registry_merges_cleanly(lab):
    """The ordinary case: a topic branch forked before a signed registry change, merged after it."""
    lab.git("checkout", "-q", "-b", "topic")
    sign_entry(lab, APP, 1)
    lab.git("checkout", "-q", "main")
    lab.write("reviewers.yaml", lab.read("reviewers.yaml").replace("name: 孙海", "name: 孙海涛"))
    lab.commit("Rename", key="r-dl-01", date="2011-07-21")
    lab.git("merge", "-q", "--no-ff", "-m", "Merge topic", "topic", env={"GIT_COMMITTER_DATE": "2011-07-22T10:00:00+08:00"})
    statuses, problems = run(lab)
    assert errors(problems) == [], [p.text() for p in problems]
    assert statuses[APP].level == 1 and statuses.verified


def test_revocation_by_the_graph_not_by_the_typed_date(lab):
    """Hole 5: a key revoked on 07-25 (admin-signed) signs on a side branch forked from an older
    commit, with a commit dated 07-22, merged on 08-01: the signature is void."""
    fork = lab.git("rev-parse", "HEAD")
    text = lab.read("reviewers.yaml")
    head, rest = text.split("- id: r-zs1-01\n", 1)
    rest = rest.replace('valid_from: "2011-01-01"', 'valid_from: "2011-01-01"\n    revoked_on: "2011-07-25"', 1)
    lab.write("reviewers.yaml", head + "- id: r-zs1-01\n" + rest)
    lab.commit("Revoke r-zs1-01's key", key="r-dl-01", date="2011-07-25")
    lab.git("checkout", "-q", "-b", "side", fork)
    sign_entry(lab, APP, 1, date="2011-07-22")
    lab.git("checkout", "-q", "main")
    lab.git("merge", "-q", "--no-ff", "-m", "Merge side", "side", env={"GIT_COMMITTER_DATE": "2011-08-01T10:00:00+08:00"})
    statuses, problems = run(lab)
    p = find(problems, "approval-key-revoked")
    assert p.severity == ERROR and "吊销" in p.message
    assert statuses[APP].state == status.FILED


def test_signature_made_before_the_revocation_in_the_graph_holds(lab):
    sign_entry(lab, APP, 1, date="2011-07-22")
    text = lab.read("reviewers.yaml")
    head, rest = text.split("- id: r-zs1-01\n", 1)
    rest = rest.replace('valid_from: "2011-01-01"', 'valid_from: "2011-01-01"\n    revoked_on: "2011-07-25"', 1)
    lab.write("reviewers.yaml", head + "- id: r-zs1-01\n" + rest)
    lab.commit("Revoke r-zs1-01's key", key="r-dl-01", date="2011-07-25")
    statuses, problems = run(lab)
    assert errors(problems) == [], [p.text() for p in problems]
    assert statuses[APP].level == 1


def test_root_file_in_the_data_does_not_pin_a_root(tmp_path):
    """A root file committed in the data names the keys anyone with write access chose: without a
    pin outside the data, nothing counts (only the sample's TEST root is taken from the data)."""
    lab = demo.Lab(tmp_path)
    demo.world(lab)
    lab.git("config", "--unset-all", "jinqiu.rootKey")
    lab.write(APP, demo.application_yaml("2011-dl-zs-0001-001", "dl-zs-0001"))
    lab.commit("File", date="2011-07-20")
    full_chain(lab)
    statuses, problems = verify.run(None, lab.data, display_root="data", use_cache=False)
    assert find(problems, "root-not-pinned", ROOT)
    assert statuses[APP].state == status.FILED and statuses.trust == "none"
    statuses, problems = verify.run(None, lab.data, display_root="data", use_cache=False,
                                    root_keys=[lab.fingerprint("r-dl-01")])
    assert statuses[APP].level == 3 and statuses.trust == "pinned"


# ---------------------------------------------------------------- payouts (hole 6)

def _paid(lab, paid_by=None, date="2011-08-20"):
    text = lab.read(APP).replace("  amount: 5000\n", f'  amount: 5000\n  paid_on: "{date}"\n'
                                 + (f"  paid_by: {paid_by}\n" if paid_by else ""), 1)
    lab.write(APP, text)


def _tallies(lab, statuses):
    from jinqiu.check import validate
    from jinqiu.publish import statistics

    dataset = validate.load(lab.data, "data")
    by_id = {r.data["id"]: statuses[r.rel] for r in dataset.applications}
    return statistics.own_tallies(dataset, 2011, by_id, "2011-08-31").get("dl-zs-0001", {}).get("02A", 0)


def test_unsigned_payout_counts_for_nothing(lab):
    """Hole 6: one unsigned line makes a record 已发放 and feeds 附件3 items 02–05."""
    full_chain(lab)
    _paid(lab)
    lab.commit("Paid", date="2011-08-20")
    statuses, problems = run(lab)
    p = find(problems, "payment-unsigned")
    assert p.severity == ERROR and p.line == lab.read(APP).splitlines().index('  paid_on: "2011-08-20"') + 1
    assert statuses[APP].state == status.APPROVED and statuses[APP].complete
    assert _tallies(lab, statuses) == 0


def test_payout_in_an_unsigned_commit_naming_a_reviewer_counts_for_nothing(lab):
    full_chain(lab)
    _paid(lab, paid_by="r-dl-01")
    lab.commit("Paid", date="2011-08-20")
    statuses, problems = run(lab)
    assert "没有签名" in find(problems, "payment-unsigned").message
    assert statuses[APP].state == status.APPROVED


def test_payout_signed_by_the_funding_union_counts(lab):
    full_chain(lab)
    _paid(lab, paid_by="r-dl-01")
    lab.commit("Paid", key="r-dl-01", date="2011-08-20")
    statuses, problems = run(lab)
    assert errors(problems) == [], [p.text() for p in problems]
    assert statuses[APP].state == status.PAID
    assert _tallies(lab, statuses) > 0


def test_payout_recorded_by_another_union_or_signed_by_someone_else(lab):
    full_chain(lab)
    _paid(lab, paid_by="r-zs-01")
    lab.commit("Paid", key="r-zs-01", date="2011-08-20")
    statuses, problems = run(lab)
    assert "不是资助单位 dl 的审核人" in find(problems, "payment-wrong-union").message
    assert statuses[APP].state == status.APPROVED
    _paid_text = lab.read(APP).replace("paid_by: r-zs-01", "paid_by: r-dl-02")
    lab.write(APP, _paid_text)
    lab.commit("Paid", key="r-dl-01", date="2011-08-21")
    statuses, problems = run(lab)
    assert "属于 r-dl-01" in find(problems, "payment-signer-mismatch").message
    assert statuses[APP].state == status.APPROVED


def test_payout_before_the_chain_is_verified_complete(lab):
    sign_entry(lab, APP, 1)
    _paid(lab, paid_by="r-dl-01")
    lab.commit("Paid", key="r-dl-01", date="2011-08-20")
    statuses, problems = run(lab)
    assert find(problems, "paid-before-approved").severity == ERROR
    assert statuses[APP].state == status.APPROVED and statuses[APP].level == 1


# ---------------------------------------------------------------- self-approval (hole 9), re-approval

def test_self_approval_through_the_student(lab):
    """Hole 9: the reviewer's family ID number is the student's (not the worker's)."""
    from jinqiu.check import validate

    family = demo.id_number(77, "19920101")
    text = lab.read("reviewers.yaml")
    head, rest = text.split("- id: r-zs1-01\n", 1)
    lab.write("reviewers.yaml", head + "- id: r-zs1-01\n" + rest.replace("  keys:\n", f'  family_id_numbers:\n  - "{family}"\n  keys:\n', 1))
    lab.commit("Declare a reviewer's family", key="r-dl-01", date="2011-07-20")
    lab.write(APP, lab.read(APP).replace("  admission_year: 2011\n", f'  admission_year: 2011\n  id_number: "{family}"\n'))
    lab.commit("The student's ID number", date="2011-07-20")
    assert validate.load(lab.data, "data").reviewers["r-zs1-01"]["family_id_numbers"] == [family]
    sign_entry(lab, APP, 1)
    statuses, problems = run(lab)
    p = find(problems, "approval-self")
    assert "r-zs1-01" in p.message and "学生" in p.message and p.severity == ERROR
    assert statuses[APP].state == status.FILED


def test_reapproval_after_an_edit_appends_a_new_chain(lab):
    """docs/review.md: an edit voids the chain; re-approval appends a new chain from level 1."""
    sign_entry(lab, APP, 1)
    sign_entry(lab, APP, 2, decision="reject", date="2011-07-22")
    lab.write(APP, lab.read(APP).replace("amount: 5000", "amount: 4000"))
    lab.commit("Correct the amount", date="2011-07-23")
    statuses, problems = run(lab)
    assert statuses[APP].state == status.STALE
    sign_entry(lab, APP, 1, date="2011-07-24")
    sign_entry(lab, APP, 2, date="2011-07-25")
    statuses, problems = run(lab)
    assert errors(problems) == [], [p.text() for p in problems]
    assert not [p for p in problems if p.code == "approval-stale"]  # the first round is history, not a warning
    assert statuses[APP] == status.Status(status.APPROVED, 2, False, True) and statuses[APP].round == 2


# ---------------------------------------------------------------- append-only entries (hole 7)

def _drop_last_entry(lab, rel=APP):
    text = lab.read(rel)
    head, sep, _ = text.rpartition("\n- level:")
    lab.write(rel, head + "\n")


def test_unsigned_removal_of_a_signed_rejection(lab):
    """Hole 7: an unsigned commit removes a signed level-2 rejection."""
    sign_entry(lab, APP, 1)
    sign_entry(lab, APP, 2, decision="reject", date="2011-07-22")
    _drop_last_entry(lab)
    removing = lab.commit("Tidy up", date="2011-07-23")
    statuses, problems = run(lab)
    p = find(problems, "approval-removed")
    assert p.severity == ERROR and f"被提交 {removing[:10]} 删除" in p.message and "第 2 级审批（r-zs-01，不同意" in p.message
    assert p.line == lab.read(APP).splitlines().index("approvals:") + 1


def test_removal_by_a_merge_or_by_deleting_the_file(lab):
    sign_entry(lab, APP, 1)
    lab.git("rm", "-q", f"data/{APP}")
    removing = lab.commit("Remove an application", key="r-zs-01", date="2011-07-23")
    _, problems = run(lab)
    p = find(problems, "approval-removed")
    assert f"被提交 {removing[:10]} 删除" in p.message and "由 r-zs-01 签名" in p.message


def test_withdrawal_by_the_reviewer_or_removal_by_an_admin_is_allowed(lab):
    sign_entry(lab, APP, 1)
    sign_entry(lab, APP, 2, date="2011-07-22")
    _drop_last_entry(lab)
    lab.commit("Withdraw my approval", key="r-zs-01", date="2011-07-23")
    _drop_last_entry(lab)
    lab.commit("Remove an approval", key="r-dl-01", date="2011-07-24")
    _, problems = run(lab)
    assert not [p for p in problems if p.code == "approval-removed"], [p.text() for p in problems]


def test_unsigned_removal_of_a_signed_payout(lab):
    full_chain(lab)
    _paid(lab, paid_by="r-dl-01")
    lab.commit("Paid", key="r-dl-01", date="2011-08-20")
    lab.write(APP, lab.read(APP).replace('  paid_on: "2011-08-20"\n  paid_by: r-dl-01\n', ""))
    lab.commit("Not paid after all", date="2011-08-21")
    _, problems = run(lab)
    assert "发放登记（2011-08-20，r-dl-01）" in find(problems, "approval-removed").message


def test_reformatting_an_entry_is_not_removing_it(lab):
    sign_entry(lab, APP, 1)
    text = lab.read(APP)
    head, block = text.split("approvals:\n", 1)
    lab.write(APP, head + "approvals:\n" + "".join("  " + line + "\n" for line in block.splitlines()))
    lab.commit("Indent", date="2011-07-22")
    _, problems = run(lab)
    assert not [p for p in problems if p.code == "approval-removed"], [p.text() for p in problems]


def test_removal_inside_a_merge(lab):
    lab.git("checkout", "-q", "-b", "topic")
    sign_entry(lab, APP, 1)
    lab.git("checkout", "-q", "main")
    before = lab.read(APP)
    lab.write(APP.replace("001.yaml", "002.yaml"), lab.read(APP.replace("001.yaml", "002.yaml")).replace("amount: 5000", "amount: 4800"))
    lab.commit("Meanwhile on main", date="2011-07-21")
    lab.git("merge", "-q", "--no-ff", "--no-commit", "topic", env={"GIT_COMMITTER_DATE": "2011-07-22T10:00:00+08:00"})
    lab.write(APP, before)
    merge = lab.commit("Merge topic", date="2011-07-22")
    statuses, problems = run(lab)
    assert f"被提交 {merge[:10]} 删除" in find(problems, "approval-removed").message


# ---------------------------------------------------------------- the continuing-student link

OLD = "applications/2010/dl-zs-0001/2010-dl-zs-0001-001.yaml"
CONT = "applications/2011/dl-zs-0001/2011-dl-zs-0001-003.yaml"


def _continuing(lab):
    lab.write(OLD, demo.application_yaml("2010-dl-zs-0001-001", "dl-zs-0001", worker_seq=5, student="周小雨"))
    text = demo.application_yaml("2011-dl-zs-0001-003", "dl-zs-0001", worker_seq=5, student="周小雨")
    lab.write(CONT, text.replace("form: new\n", "form: continuing\ncontinues: 2010-dl-zs-0001-001\n"))
    lab.commit("File", date="2011-07-20")


def test_continuing_link_counts_only_a_verified_approval(lab):
    """附件2 → the earlier record: what that file claims is not enough; its approval must verify."""
    _continuing(lab)
    for level, date in ((1, "2011-07-21"), (2, "2011-07-22"), (3, "2011-07-23")):
        entry(lab, OLD, level, {1: "r-zs1-01", 2: "r-zs-01", 3: "r-dl-01"}[level], date=date)  # typed in, unsigned
    lab.commit("Claim the 2010 approvals", date="2011-07-23")
    full_chain(lab, rel=CONT)
    statuses, problems = run(lab)
    p = find(problems, "continues-not-approved", CONT)
    assert p.severity == ERROR and "2010-dl-zs-0001-001" in p.message
    assert statuses[CONT].state == status.FILED


def test_continuing_link_to_a_verified_approval(lab):
    _continuing(lab)
    full_chain(lab, rel=OLD)
    full_chain(lab, rel=CONT)
    statuses, problems = run(lab)
    assert not [p for p in problems if p.code == "continues-not-approved"], [p.text() for p in problems]
    assert statuses[CONT].level == 3


# ---------------------------------------------------------------- the published TEST keys

def test_test_keys_are_refused_outside_the_sample_test_root(tmp_path):
    """A city that starts from the sample and forgets a TEST reviewer: that key's private half is
    public, so verify refuses it under any root but the sample's own, naming the registry entry."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from jinqiu.check import validate
    from jinqiu.sample import generate as sample
    from jinqiu.trust import digest, sshsig, testkeys

    secret = testkeys.secret(2011, "r-zs1-01")
    line, fpr = sample.ssh_public_line(testkeys.ed25519_public(secret), "city key")  # comment changed: still found
    lab = demo.Lab(tmp_path)
    demo.world(lab, key_overrides={"r-zs1-01": [{"public_key": line, "valid_from": "2011-01-01"}]})
    lab.write(APP, demo.application_yaml("2011-dl-zs-0001-001", "dl-zs-0001"))
    lab.commit("File", date="2011-07-20")
    e = {"level": 1, "decision": "approve", "opinion": "同意", "reviewer": "r-zs1-01", "date": "2011-07-21",
         "digest": digest.of(next(r for r in validate.load(lab.data, "data").applications if r.rel == APP).data)}
    e["signature"] = sshsig.sign(Ed25519PrivateKey.from_private_bytes(secret), verify.entry_payload("2011-dl-zs-0001-001", e),
                                 verify.NAMESPACE_ENTRY).decode()
    from jinqiu.trust import approve

    lab.write(APP, approve.append_entry(lab.read(APP), e))
    lab.commit("Approve with the sample's TEST key", date="2011-07-21")
    statuses, problems = run(lab)
    p = find(problems, "registry-key", "reviewers.yaml")
    assert "测试密钥" in p.message and "r-zs1-01" in p.message and "种子 2011" in p.message
    lines = lab.read("reviewers.yaml").splitlines()
    start = lines.index("- id: r-zs1-01")
    assert p.line == lines.index("  - type: ssh", start) + 1
    assert statuses[APP].state == status.FILED


def test_the_sample_ships_a_test_root_that_verifies(tmp_path):
    """The README's build on the sample: a TEST root in the data, verified approvals, said to be TEST."""
    import shutil

    from jinqiu.sample import generate as sample

    lab = demo.Lab(tmp_path)
    sample.generate(lab.data, applications_per_year=12, years=(2011,))
    lab.commit("Sample", date="2011-09-01")
    statuses, problems = verify.run(None, lab.data, display_root="data", use_cache=False)
    assert errors(problems) == [], [p.text() for p in problems][:5]
    assert statuses.trust == "test" and statuses.verified
    assert any(s.state in (status.APPROVED, status.PAID, status.REJECTED) for s in statuses.values())
    assert find(problems, "root-test", ROOT).severity == "warning"
    shutil.rmtree(tmp_path / "keys")
