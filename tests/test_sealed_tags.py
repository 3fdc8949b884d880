"""Duplicates of sealed ID numbers without a key that could reverse them (issue 21, invariant 8): the
city build's keyed tags, signed by its registered SSH key, on a real sealed city (real age keys, real
ssh-keygen signatures, real .xlsx imports).

Invariant: a keyless run finds a duplicate of one year only through tags the registered build key
signed for the records' current values; nobody but the build and the escrow can open the tag key;
the keyed run re-derives every tag and a wrong one is an error, whoever signed it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pyrage
import pytest
from test_sealed_flow import ID_OR_MOBILE, HEADERS_NEW, city, import_sheet, keyed, run, sheet_rows, stored_files, xlsx  # noqa: F401

from jinqiu.check import validate
from jinqiu.sample import demo
from jinqiu.trust import digest, keyring, tagsig


def ssh_key(path: Path) -> Path:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "build", "-f", str(path)], check=True)
    return path


@pytest.fixture
def tagged(city, tmp_path):
    """The city with a registered build signing key, one child filed by two unions."""
    data = city["data"]
    build_ssh = ssh_key(tmp_path / "build_ssh")
    text = (data / "sealing.yaml").read_text(encoding="utf-8")
    (data / "sealing.yaml").write_text(text.replace("members:", f"build_signer: {Path(f'{build_ssh}.pub').read_text().strip()}\nmembers:"),
                                       encoding="utf-8")
    rows = sheet_rows(2)
    assert import_sheet(city, tmp_path, rows)[0] == 0
    code, out, err = run("import", xlsx(tmp_path / "b.xlsx", [HEADERS_NEW, rows[0]]), "--unit", "dl-xg-0001", "--data", data)
    assert code == 0, out + err
    return {**city, "build_ssh": build_ssh, "rows": rows}


def make_tags(c, who="build", *more):
    return keyed(c, who, "tags", "--data", c["data"], "--signing-key", c["build_ssh"], "--today", "2011-08-01", *more)


def test_the_builds_signed_tags_find_a_duplicate_without_a_key(tagged):
    data = tagged["data"]
    code, out, err = run("validate", "--data", data, "--no-cache")
    assert code == 0, out + err  # no tags yet: the clerk's clone cannot see it
    code, out, err = make_tags(tagged)
    assert code == 0, out + err
    tags_file = data / "tags" / "2011.yaml"
    text = tags_file.read_text(encoding="utf-8")
    assert not ID_OR_MOBILE.search(text) and tagged["rows"][0][5] not in text and tagged["rows"][0][1] not in text
    code, out, err = run("validate", "--data", data, "--no-cache")
    assert code == 1 and "重复资助" in out and "按构建机的查重标记" in out, out + err
    assert out.count("重复资助：") == 2 and "dl-xg-0001" in out and "dl-zs-0001" in out
    assert "查重标记（构建机签名）：2011 年度 3 份记录" in err
    # the cache does not hide the tags' verdict, nor keep it after the tags file goes
    assert run("validate", "--data", data)[0] == 1
    tags_file.unlink()
    assert run("validate", "--data", data)[0] == 0
    # an unchanged result leaves the file byte for byte
    assert make_tags(tagged)[0] == 0
    before = tags_file.read_bytes()
    code, out, err = make_tags(tagged)
    assert code == 0 and "没有变化" in err and tags_file.read_bytes() == before


def test_only_the_build_and_the_escrow_open_the_tag_key(tagged):
    blob = keyring.tag_key_path(tagged["keys"], 2011).read_bytes()
    for who in ("clerk", "district", "city", "xg-clerk"):
        with pytest.raises(pyrage.DecryptError):
            pyrage.decrypt(blob, keyring.read_identities(tagged["ids"] / who, lambda: "clerk-passphrase-1"))
    for who in ("build", "escrow"):
        assert len(pyrage.decrypt(blob, keyring.read_identities(tagged["ids"] / who))) == 44
    code, out, err = make_tags(tagged, "district")
    assert code != 0 and "查重标记密钥" in err and not (tagged["data"] / "tags").exists()


def test_a_tags_file_counts_only_with_the_registered_build_signature(tagged, tmp_path):
    data = tagged["data"]
    assert make_tags(tagged)[0] == 0
    path = data / "tags" / "2011.yaml"
    good = path.read_text(encoding="utf-8")
    # an edited tag breaks the signature: an error, and the tags count for nothing
    first = re.search(r"- \"?([0-9a-f]{32})", good).group(1)
    path.write_text(good.replace(first, "0" * 32, 1), encoding="utf-8")
    code, out, err = run("validate", "--data", data, "--no-cache")
    assert code == 1 and "签名无效" in out and "重复资助" not in out, out
    # signed again by a key that is not the registered build key (an administrator's, say)
    tree = validate.check_file(data, "data", "tags/2011.yaml")[0].data
    other = keyring.ssh_signer(tagged["lab"].keys / "r-dl-01", tagsig.NAMESPACE_TAGS, "查重标记")
    from jinqiu.records import yamlwrite

    path.write_text(yamlwrite.dump(tagsig.signed(tree, other), "tags"), encoding="utf-8")
    code, out, err = run("validate", "--data", data, "--no-cache")
    assert code == 1 and "不是登记的构建机签名公钥" in out and "重复资助" not in out, out
    # a good file of one year put under another year's name
    path.write_text(good, encoding="utf-8")
    (data / "tags" / "2012.yaml").write_text(good, encoding="utf-8")
    code, out, err = run("validate", "--data", data, "--no-cache")
    assert "tags/2012.yaml" in out and "与文件名不符" in out, out
    (data / "tags" / "2012.yaml").unlink()
    # the tags command refuses a signing key that is not the registered one, writing nothing
    path.unlink()
    code, out, err = keyed(tagged, "build", "tags", "--data", data, "--signing-key", tagged["lab"].keys / "r-dl-01")
    assert code != 0 and "不是登记的构建机签名私钥" in err and not path.exists()


def test_tags_made_for_other_values_do_not_count_and_the_keyed_run_finds_them_stale(tagged, tmp_path):
    data, rows = tagged["data"], tagged["rows"]
    assert make_tags(tagged)[0] == 0
    # the second union corrects its record's phone (with its clerk's key): its values, and commitment, change
    row = list(rows[0])
    row[7] = "13904119999"
    code, out, err = run("import", xlsx(tmp_path / "c.xlsx", [HEADERS_NEW, row]), "--unit", "dl-xg-0001", "--data", data,
                         "--identity", tagged["ids"] / "xg-clerk", "--keys", tagged["keys"])
    assert code == 0 and "更新 1 个" in err, out + err
    code, out, err = run("validate", "--data", data, "--no-cache")
    assert code == 0 and "重复资助" not in out, out  # the old tags stand for the old values: not used
    code, out, err = keyed(tagged, "build", "validate", "--data", data, "--keyed")
    assert code == 1 and "重复资助" in out and "没有这份记录当前内容的标记" in out, out + err
    code, out, err = make_tags(tagged)
    assert code == 0 and "3 份加密记录（其中 1 份新增或改动、解密重算）" in err, err  # the daily case: one opened
    code, out, err = run("validate", "--data", data, "--no-cache")
    assert code == 1 and "重复资助" in out, out


def test_the_keyed_run_refuses_a_wrong_tag_even_with_a_good_signature(tagged):
    data = tagged["data"]
    assert make_tags(tagged)[0] == 0
    path = data / "tags" / "2011.yaml"
    tree = validate.check_file(data, "data", "tags/2011.yaml")[0].data
    ids = sorted(tree["records"])
    a, b = tree["records"][ids[0]], tree["records"][ids[2]]  # two different children
    a["family"], b["family"] = b["family"], a["family"]  # the build key itself signs a wrong file
    from jinqiu.records import yamlwrite

    sign = keyring.ssh_signer(tagged["build_ssh"], tagsig.NAMESPACE_TAGS, "查重标记")
    path.write_text(yamlwrite.dump(tagsig.signed(tree, sign), "tags"), encoding="utf-8")
    code, out, err = keyed(tagged, "build", "validate", "--data", data, "--keyed")
    assert code == 1 and out.count("标记文件被改动或伪造") == 2, out + err


def test_a_reviewer_approving_their_own_sealed_application_is_found_without_a_key(tagged, tmp_path):
    data, rows = tagged["data"], tagged["rows"]
    reviewers = (data / "reviewers.yaml").read_text(encoding="utf-8")
    reviewers += demo.reviewer_yaml("r-zs1-01", "张伟", "dl-zs-0001", 1, [{"public_key": tagged["lab"].key("r-zs1-01")}],
                                    id_number=rows[1][5])
    (data / "reviewers.yaml").write_text(reviewers, encoding="utf-8")
    rel = next(r for r in sorted(stored_files(data)) if "dl-zs-0001" in r and r.endswith("002.yaml"))
    stored = validate.check_file(data, "data", rel)[0].data
    entry = (f"approvals:\n- level: 1\n  decision: approve\n  opinion: 同意\n  reviewer: r-zs1-01\n  date: \"2011-07-21\"\n"
             f"  digest: {digest.of(stored)}\n")
    (data / rel).write_text((data / rel).read_text(encoding="utf-8").replace("approvals: []\n", entry), encoding="utf-8")
    code, out, err = run("validate", "--data", data, "--no-cache")
    assert "回避" not in out, out
    # in a sealed city the reviewer's own number is sealed too (to the build and the escrow only)
    code, out, err = run("check-sealed", "--data", data)
    assert code == 1 and "r-zs1-01 的身份证号码是明文" in out and rows[1][5] not in out, out
    code, out, err = run("keys", "seal-reviewers", "--data", data)
    assert code == 0 and "1 位审核人" in err, out + err
    assert rows[1][5] not in (data / "reviewers.yaml").read_text(encoding="utf-8")
    assert run("check-sealed", "--data", data)[0] == 0
    code, out, err = keyed(tagged, "build", "validate", "--data", data, "--keyed")
    assert code == 1 and "回避" in out and f"{rel}:" in out, out + err  # the keyed tier opens the registry's number
    code, out, err = keyed(tagged, "district", "validate", "--data", data, "--keyed")
    assert "审核人 r-zs1-01 的身份证号码无法核对" in out, out + err  # fails closed where the number cannot be opened
    assert make_tags(tagged)[0] == 0
    code, out, err = run("validate", "--data", data, "--no-cache")
    assert code == 1 and "回避" in out and "r-zs1-01" in out and f"{rel}:" in out, out
    assert rows[1][5] not in out
    # verify, which decides whether the approval counts, reads the same tags
    code, out, err = run("verify", "--data", data, "--no-cache")
    assert "构建机的查重标记显示身份证号码相同" in out and f"{rel}:" in out, out + err


def test_a_shredded_year_has_no_tag_key_left(tagged):
    assert make_tags(tagged)[0] == 0
    keyring.shred(tagged["keys"], 2011)
    assert not keyring.tag_key_path(tagged["keys"], 2011).exists()
    code, out, err = make_tags(tagged)
    assert code != 0 and "查重标记密钥" in err


def test_a_large_city_s_tags_file_is_read(tagged):
    """A year's tags file grows ~200 bytes a record: past the 256 KB a person's file may have, it still counts."""
    from jinqiu.records import yamlstrict, yamlwrite

    data = tagged["data"]
    assert make_tags(tagged)[0] == 0
    path = data / "tags" / "2011.yaml"
    tree = validate.check_file(data, "data", "tags/2011.yaml")[0].data
    for i in range(3000):  # records of other unions, as the build would have tagged them
        tree["records"][f"2011-dl-zs-0002-{i:04d}"] = {"commit": "sha256:" + f"{i:064x}", "family": [f"{i:032x}"]}
    sign = keyring.ssh_signer(tagged["build_ssh"], tagsig.NAMESPACE_TAGS, "查重标记")
    path.write_text(yamlwrite.dump(tagsig.signed(tree, sign), "tags"), encoding="utf-8")
    assert path.stat().st_size > yamlstrict.MAX_BYTES
    code, out, err = run("validate", "--data", data, "--no-cache")
    assert code == 1 and out.count("重复资助：") == 2 and "3003 份记录" in err, out + err
