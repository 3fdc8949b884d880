"""Personal data at rest (issue 21), on real age keys (pyrage), real ssh-keygen signatures and real git
repositories: one test per invariant of the issue, written from the invariant."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pyrage
import pytest

from jinqiu.check import schemacheck, validate
from jinqiu.edit import fmt
from jinqiu.records import dataset, layout, sealed, yamlstrict, yamlwrite
from jinqiu.sample import demo
from jinqiu.trust import approve, digest, keyring, verify

PTRS = sealed.personal_pointers(layout.schema("application"))
APP = "applications/2011/dl-zs-0001/2011-dl-zs-0001-001.yaml"
LEVEL_REVIEWER = {1: "r-zs1-01", 2: "r-zs-01", 3: "r-dl-01"}
ID_OR_MOBILE = re.compile(r"(?<![0-9A-Za-z])([0-9]{17}[0-9X]|1[3-9][0-9]{9})(?![0-9A-Za-z])")


def clear_record(record_id="2011-dl-zs-0001-001", unit="dl-zs-0001", seq=1, student="王小明"):
    tree, _ = yamlstrict.load(demo.application_yaml(record_id, unit, worker_seq=seq, student=student).encode(), "x")
    data, problems = yamlstrict.coerce(tree, layout.schema("application"), "x", lambda p: 1)
    assert not problems
    return data


def stored_text(data) -> str:
    return yamlwrite.dump(data, "application")


def reload(text: str):
    tree, _ = yamlstrict.load(text.encode(), "x")
    data, problems = yamlstrict.coerce(tree, layout.schema_for("application", tree), "x", lambda p: 1)
    assert not problems, problems
    return data


def personal_values(data) -> list[str]:
    return [str(v) for v in sealed.values_of(data, PTRS).values()]


# ---- invariant 2: writing needs only the public recipient ------------------------------------------

def test_a_clerk_seals_what_they_cannot_read_back():
    group = pyrage.x25519.Identity.generate()
    clerk = pyrage.x25519.Identity.generate()  # a clerk's own key: not on any keyring here
    clear = clear_record()
    text = stored_text(sealed.seal(clear, PTRS, str(group.to_public())))  # only the public key is used
    for value in personal_values(clear):
        if len(value) >= 4 or not value.isascii():  # a name, an ID, a phone, an address, an income
            assert value not in text, value
    assert not ID_OR_MOBILE.search(text)
    stored = reload(text)
    assert schemacheck.check("application", stored) == []
    with pytest.raises(sealed.SealError):
        sealed.open_record(stored, PTRS, [clerk])
    assert sealed.open_record(stored, PTRS, [group]) == clear


def test_sealing_again_changes_nothing_and_one_change_changes_one_value():
    group = pyrage.x25519.Identity.generate()
    recipient = str(group.to_public())
    clear = clear_record()
    first = reload(stored_text(sealed.seal(clear, PTRS, recipient)))
    opened, key = sealed.open_with_key(first, PTRS, [group])
    again = sealed.seal(opened, PTRS, recipient, previous=first, previous_key=key)
    assert stored_text(again) == stored_text(first)
    opened["worker"]["phone"] = "13911112222"
    changed = sealed.seal(opened, PTRS, recipient, previous=first, previous_key=key)
    diff = [p for p in PTRS if sealed._get(changed, p) != sealed._get(first, p)]
    assert diff == ["/worker/phone"]
    assert changed["sealed"]["commit"] != first["sealed"]["commit"]


def test_fmt_keeps_sealed_text_byte_for_byte(tmp_path):
    group = pyrage.x25519.Identity.generate()
    text = stored_text(sealed.seal(clear_record(), PTRS, str(group.to_public())))
    out, problem = fmt.canonical(text.encode(), "application", "x.yaml")
    assert problem is None and out == text
    # a hand-written clear value where a sealed one belongs is refused by the stored-form schema
    bad = reload(text)
    bad["worker"]["phone"] = "13900000000"
    found = schemacheck.check("application", bad)
    assert [(p, c) for p, c, _ in found] == [("/worker/phone", "sealed-clear")]
    assert "ENC[jq1" in found[0][2]


# ---- invariant 5: every sealed value is bound to its record and field ------------------------------

def test_a_swapped_or_transplanted_value_fails_naming_the_field():
    group = pyrage.x25519.Identity.generate()
    r = str(group.to_public())
    a = reload(stored_text(sealed.seal(clear_record(), PTRS, r)))
    b = reload(stored_text(sealed.seal(clear_record("2011-dl-zs-0001-002", seq=2, student="李小红"), PTRS, r)))
    swapped = reload(stored_text(a))
    swapped["worker"]["name"], swapped["student"]["name"] = a["student"]["name"], a["worker"]["name"]
    with pytest.raises(sealed.SealError, match="/student/name|/worker/name"):
        sealed.open_record(swapped, PTRS, [group])
    moved = reload(stored_text(a))
    moved["worker"]["id_number"] = b["worker"]["id_number"]
    with pytest.raises(sealed.SealError, match="/worker/id_number"):
        sealed.open_record(moved, PTRS, [group])
    # the same data key (a forger copying the other file's key and value): the AAD still binds the record id
    moved2 = reload(stored_text(b))
    moved2["id"] = a["id"]
    with pytest.raises(sealed.SealError):
        sealed.open_record(moved2, PTRS, [group])


# ---- invariant 4: the key-free digest v2 ------------------------------------------------------------

def test_digest_v2_needs_no_key_survives_rekeying_and_catches_a_forged_commitment():
    group = pyrage.x25519.Identity.generate()
    other = pyrage.x25519.Identity.generate()
    clear = clear_record()
    stored = reload(stored_text(sealed.seal(clear, PTRS, str(group.to_public()))))
    d = digest.of(stored)  # no key anywhere
    assert d.startswith("sha256:") and d != digest.of(clear)
    # re-wrapping to another group and rotating the data key leave the digest alone
    rewrapped = sealed.reseal_for(stored, PTRS, [group], str(other.to_public()))
    assert rewrapped["sealed"]["key"] != stored["sealed"]["key"]
    assert digest.of(rewrapped) == d
    assert sealed.open_record(rewrapped, PTRS, [other]) == clear
    rotated = sealed.rotate_data_key(stored, PTRS, [group])
    assert rotated["worker"]["name"] != stored["worker"]["name"]
    assert digest.of(rotated) == d and sealed.open_record(rotated, PTRS, [group]) == clear
    # any value changing changes the digest: a personal one (through the commitment) and a clear one
    opened, key = sealed.open_with_key(stored, PTRS, [group])
    opened["worker"]["income_per_capita"] = type(opened["worker"]["income_per_capita"])("900.00")
    assert digest.of(sealed.seal(opened, PTRS, str(group.to_public()), previous=stored, previous_key=key)) != d
    public = reload(stored_text(stored))
    public["aid"]["amount"] = type(public["aid"]["amount"])(4000)
    assert digest.of(public) != d
    # a forged commitment: a key holder sees it does not open; the keyless digest moves with it
    forged = reload(stored_text(stored))
    forged["sealed"]["commit"] = "sha256:" + "0" * 64
    with pytest.raises(sealed.SealError, match="承诺值"):
        sealed.open_record(forged, PTRS, [group])
    assert digest.of(forged) != d


def test_an_unsealed_record_keeps_digest_v1():
    sample = sorted(Path("data/applications/2009").glob("*/*.yaml"))[0]
    rec, problems, _ = dataset.read_one(Path("data"), "data", str(sample.relative_to("data")))
    assert digest.of(rec.data) == rec.data["approvals"][-1]["digest"]


# ---- invariant 3: each member reads exactly their subtree; a revoked member nothing filed after ------

@pytest.fixture
def chain(tmp_path):
    """Keyrings for 2012 of three grassroots unions, signed by the registry administrator's ssh key,
    in a key repository of their own; a clerk, a district reviewer, a city reviewer and a clerk
    revoked on 2012-03-01 (after which dl-zs-0002 starts generation 2)."""
    lab = demo.Lab(tmp_path / "lab")
    demo.world(lab)
    people = {name: pyrage.x25519.Identity.generate() for name in ("clerk", "district", "city", "revoked", "build", "escrow", "outsider")}
    pub = {k: str(v.to_public()) for k, v in people.items()}
    cfg = keyring.Sealing(2012, pub["build"], pub["escrow"], [
        {"id": "c-zs1-01", "unit": "dl-zs-0001", "recipient": pub["clerk"], "valid_from": "2012-01-01"},
        {"id": "r-zs-01", "unit": "dl-zs", "recipient": pub["district"], "valid_from": "2012-01-01"},
        {"id": "r-dl-02", "unit": "dl", "recipient": pub["city"], "valid_from": "2012-01-01"},
        {"id": "c-zs2-01", "unit": "dl-zs-0002", "recipient": pub["revoked"], "valid_from": "2012-01-01", "revoked_on": "2012-03-01"},
    ], {})
    keys_dir = tmp_path / "keys"
    keys_dir.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main", str(keys_dir)], check=True)
    signer = keyring.ssh_signer(lab.keys / "r-dl-01")
    units = {u["id"]: u for u in yamlstrict.load(lab.read("units.yaml").encode(), "u")[0]["units"]}
    groups = {}
    for unit in ("dl-zs-0001", "dl-zs-0002", "dl-xg-0001"):
        secret, recipient = keyring.new_group()
        keyring.write_keyring(keys_dir, 2012, unit, 1, secret, [r for _, r in keyring.chain(cfg, unit, units, "2012-01-01")], signer)
        groups[(unit, 1)] = recipient
    secret, recipient = keyring.new_group()  # rotation after the revocation
    assert "c-zs2-01" not in dict(keyring.chain(cfg, "dl-zs-0002", units, "2012-03-01"))
    keyring.write_keyring(keys_dir, 2012, "dl-zs-0002", 2, secret, [r for _, r in keyring.chain(cfg, "dl-zs-0002", units, "2012-03-01")], signer)
    groups[("dl-zs-0002", 2)] = recipient
    subprocess.run(["git", "-C", str(keys_dir), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(keys_dir), "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "keyrings"], check=True)
    records = {}
    for name, unit, gen in (("zs1", "dl-zs-0001", 1), ("zs2-old", "dl-zs-0002", 1), ("zs2-new", "dl-zs-0002", 2), ("xg1", "dl-xg-0001", 1)):
        clear = clear_record(f"2012-{unit}-00{gen}", unit, seq=len(records) + 3)
        clear["year"] = 2012
        records[name] = (clear, reload(stored_text(sealed.seal(clear, PTRS, groups[(unit, gen)]))))
    reviewers = validate.load(lab.data, "data").reviewers
    admins = keyring.admin_fingerprints(reviewers)
    assert set(admins.values()) == {"r-dl-01"}
    return {"people": people, "keys": keys_dir, "records": records, "admins": admins, "lab": lab, "units": units, "cfg": cfg}


def readable(chain, who) -> set[str]:
    opener = keyring.Opener(chain["keys"], [chain["people"][who]], chain["admins"])
    out = set()
    for name, (clear, stored) in chain["records"].items():
        try:
            assert opener.open(stored, PTRS) == clear
            out.add(name)
        except sealed.SealError:
            pass
    return out


def test_each_member_reads_exactly_their_subtree_and_a_revoked_member_nothing_after(chain):
    everything = {"zs1", "zs2-old", "zs2-new", "xg1"}
    assert readable(chain, "clerk") == {"zs1"}
    assert readable(chain, "district") == {"zs1", "zs2-old", "zs2-new"}
    assert readable(chain, "city") == everything
    assert readable(chain, "build") == everything and readable(chain, "escrow") == everything
    assert readable(chain, "revoked") == {"zs2-old"}  # what they could read before, not what was filed after
    assert readable(chain, "outsider") == set()


def test_a_keyring_not_signed_by_an_administrator_is_not_used(chain):
    lab = chain["lab"]
    # an attacker with write access to the key repository replaces a keyring with one wrapped to themselves
    secret, _ = keyring.new_group()
    path = keyring.keyring_path(chain["keys"], 2012, "dl-zs-0001", 1)
    forged_signer = keyring.ssh_signer(lab.keys / "r-zs1-01")  # a registered reviewer, not an administrator
    lab.key("r-zs1-01")
    keyring.write_keyring(chain["keys"], 2012, "dl-zs-0001", 1, secret, [str(chain["people"]["clerk"].to_public())], forged_signer)
    opener = keyring.Opener(chain["keys"], [chain["people"]["clerk"]], chain["admins"])
    assert opener.groups(2012, "dl-zs-0001") == []
    assert any("管理员" in p for p in opener.problems)
    assert path.exists()


# ---- invariant 7 (part): shredding a year leaves no key behind in the key repository -------------

def test_shred_makes_the_year_unreadable_for_everyone_and_leaves_no_copy(chain):
    keys_dir = chain["keys"]
    blob_ids = subprocess.run(["git", "-C", str(keys_dir), "ls-tree", "-r", "HEAD"], capture_output=True, text=True).stdout.split()
    blobs = [w for w in blob_ids if re.fullmatch(r"[0-9a-f]{40}", w)]
    assert blobs
    removed = keyring.shred(keys_dir, 2012)
    assert removed
    for who in ("city", "build", "escrow", "clerk"):
        assert readable(chain, who) == set()
    for b in blobs:
        assert subprocess.run(["git", "-C", str(keys_dir), "cat-file", "-e", b], capture_output=True).returncode != 0
    # the records' approval digests need no key and do not change
    for _, stored in chain["records"].values():
        assert digest.of(stored).startswith("sha256:")


# ---- invariant 4 end to end: sealed approvals verify, and survive re-keying ---------------------------

def test_sealed_approvals_verify_and_survive_rewrapping(tmp_path):
    lab = demo.Lab(tmp_path)
    demo.world(lab)
    group = pyrage.x25519.Identity.generate()
    other = pyrage.x25519.Identity.generate()
    stored = sealed.seal(clear_record(), PTRS, str(group.to_public()))
    lab.write(APP, stored_text(stored))
    lab.commit("File a sealed application", date="2011-07-20")
    for level, day in ((1, "2011-07-21"), (2, "2011-07-22"), (3, "2011-07-23")):
        rec = next(r for r in validate.load(lab.data, "data").applications if r.rel == APP)
        e = {"level": level, "decision": "approve", "opinion": "情况属实，同意", "reviewer": LEVEL_REVIEWER[level],
             "date": day, "digest": digest.of(rec.data)}
        path = lab.data / APP
        path.write_text(approve.append_entry(path.read_text(encoding="utf-8"), e), encoding="utf-8")
        lab.commit(f"Approve at level {level}", key=LEVEL_REVIEWER[level], date=day)

    def approved():
        statuses, problems = verify.run(None, lab.data, display_root="data", use_cache=False)
        st = statuses[f"data/{APP}"] if f"data/{APP}" in statuses else statuses[APP]
        return (st.state, st.level, st.complete, st.verified), problems

    before, problems = approved()
    assert before == ("approved", 3, True, True), before
    assert not [p for p in problems if p.severity == "error"], [p.text() for p in problems]
    now = reload(lab.read(APP))
    lab.write(APP, stored_text(sealed.reseal_for(now, PTRS, [group], str(other.to_public()))))
    lab.commit("Re-wrap to a new group key", date="2011-07-24")
    after, problems = approved()
    assert after == before and not [p for p in problems if p.severity == "error"], [p.text() for p in problems]
    # a value changed after the approvals: they no longer count
    opened, key = sealed.open_with_key(reload(lab.read(APP)), PTRS, [other])
    opened["student"]["name"] = "王小亮"
    lab.write(APP, stored_text(sealed.seal(opened, PTRS, str(other.to_public()), previous=reload(lab.read(APP)), previous_key=key)))
    lab.commit("Change the student's name", date="2011-07-25")
    changed, problems = approved()
    assert changed[0] == "stale" and not changed[2], changed
