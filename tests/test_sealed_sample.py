"""The sample sealed with TEST keys builds with and without the city key (issue 21, invariants 6 and 9):
a real demo repository replayed with real ssh-keygen signatures, real keyrings, real mkdocs builds."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from jinqiu import cli
from jinqiu.sample import demo
from jinqiu.sample import sealed as sealed_sample

TODAY = "2011-09-03"  # inside the 2011 公示 window: the notice names its students


def run(*argv):
    out, err = io.StringIO(), io.StringIO()
    code = cli.main([str(a) for a in argv], out, err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def repos(tmp_path_factory):
    base = tmp_path_factory.mktemp("sealed-sample")
    subprocess.run([sys.executable, "-m", "jinqiu.sample", str(base / "data"), "--applications", "20"], check=True,
                   capture_output=True, cwd=Path(__file__).resolve().parents[1])
    clear = demo.build_sample(base / "data", base / "clear")
    sealed = sealed_sample.sealed_sample(base / "data", base / "sealed")
    return {"base": base, "clear": clear, "sealed": sealed}


def docs(out: Path) -> dict:
    root = out / "private" / "site-build" / "docs"
    return {p.relative_to(root).as_posix(): re.sub(r"数据版本 <code>[0-9a-f]+</code>", "", p.read_text(encoding="utf-8"))
            for p in sorted(root.rglob("*.md"))}


def build(data: Path, out: Path, *more):
    return run("build", "--data", data, "--out", out, "--no-pdf", "--today", TODAY, "--no-cache", *more)


def test_the_sealed_sample_holds_no_personal_value_and_verifies_like_the_clear_one(repos):
    data = repos["sealed"]["lab"].data
    assert run("check-sealed", "--data", data)[0] == 0
    text = "".join(p.read_text(encoding="utf-8") for p in (data / "applications").rglob("*.yaml"))
    clear_text = "".join(p.read_text(encoding="utf-8") for p in (repos["clear"].data / "applications").rglob("*.yaml"))
    for number in set(re.findall(r'id_number: "([0-9X]{18})"', clear_text)):
        assert number not in text
    from jinqiu.trust import verify

    def labels(lab):
        statuses, problems = verify.run(None, lab.data, display_root="data", use_cache=False)
        assert not [p for p in problems if p.severity == "error"], [p.text() for p in problems]
        return sorted(s.label for s in statuses.values())

    assert labels(repos["sealed"]["lab"]) == labels(repos["clear"])


def test_keyed_build_makes_the_same_site_and_forms_keyless_build_names_nobody(repos, tmp_path):
    clear_out, keyless_out, keyed_out = tmp_path / "clear", tmp_path / "keyless", tmp_path / "keyed"
    code, out, err = build(repos["clear"].data, clear_out)
    assert code == 0, out + err
    s = repos["sealed"]
    code, out, err = build(s["lab"].data, keyed_out, "--keyed")
    assert code == 2 and "密钥" in err  # fails closed without the key
    code, out, err = build(s["lab"].data, keyed_out, "--keyed", "--identity", s["identities"] / "build", "--keys", s["keys"])
    assert code == 0, out + err
    code, out, err = build(s["lab"].data, keyless_out)
    assert code == 0, out + err
    assert "build --keyed" in err and "没有做" in err
    clear, keyed, keyless = docs(clear_out), docs(keyed_out), docs(keyless_out)
    assert keyed == clear  # nothing changes for a reader of the site
    names = re.findall(r'<th scope="row" class="jq-words">([^<]*&#42;[^<]*)</th>', clear["notice.md"])
    assert names
    assert not re.findall(r'<th scope="row" class="jq-words">([^<]*&#42;[^<]*)</th>', keyless["notice.md"])
    assert {k: v for k, v in keyless.items() if k != "notice.md"} == {k: v for k, v in clear.items() if k != "notice.md"}
    # the printed forms hold the personal data: made by the keyed build only, the same as the clear one's
    assert not (keyless_out / "private" / "forms").exists() or not list((keyless_out / "private" / "forms").glob("*.html"))

    def forms(out):
        return {p.name: re.sub(r'<div class="proof">.*</div>', "", p.read_text(encoding="utf-8"))
                for p in sorted((out / "private" / "forms").glob("*.html"))}

    assert forms(keyed_out) == forms(clear_out) and forms(clear_out)


def test_renewals_need_last_years_key_and_write_sealed_drafts(repos):
    s = repos["sealed"]
    data = s["lab"].data
    code, out, err = run("renewals", "2011", "--data", data, "--write")
    assert code == 2 and "密钥" in err
    before = set((data / "applications" / "2011").rglob("*.yaml"))
    code, out, err = run("renewals", "2011", "--data", data, "--write", "--identity", s["identities"] / "build", "--keys", s["keys"])
    assert code == 0, out + err
    new = set((data / "applications" / "2011").rglob("*.yaml")) - before
    try:
        assert new and all("ENC[jq1," in p.read_text(encoding="utf-8") for p in new)
        assert run("check-sealed", "--data", data)[0] == 0
    finally:
        for p in new:
            p.unlink()


def test_after_shredding_a_year_the_site_and_statistics_are_unchanged(repos, tmp_path):
    """Invariant 7: the administrator's act makes 2009 unreadable for everyone; its approvals, payouts
    and statistics stay verifiable and the site (附件3 included) does not change. (Runs last: it shreds.)"""
    s = repos["sealed"]
    data = s["lab"].data
    keyed_args = ("--keyed", "--identity", s["identities"] / "build", "--keys", s["keys"])
    code, out, err = build(data, tmp_path / "before", *keyed_args)
    assert code == 0, out + err
    from jinqiu.trust import verify

    before_status = {k: (v.state, v.level, v.verified) for k, v in verify.run(None, data, display_root="data", use_cache=False)[0].items()}
    code, out, err = run("shred", "2009", "--data", data, "--keys", s["keys"], "--today", "2030-01-01")
    assert code == 0, err
    s["lab"].commit("2009 年度个人信息保存期满，销毁密钥", key="r-dl-01", date="2011-09-02")
    rel = next(p for p in (data / "applications" / "2009").rglob("*.yaml"))
    code, out, err = run("show", "--data", data, rel, "--identity", s["identities"] / "build", "--keys", s["keys"])
    assert code == 1 and "销毁" in err
    after_status = {k: (v.state, v.level, v.verified) for k, v in verify.run(None, data, display_root="data", use_cache=False)[0].items()}
    assert after_status == before_status
    code, out, err = build(data, tmp_path / "after", *keyed_args)
    assert code == 0, out + err
    assert docs(tmp_path / "after") == docs(tmp_path / "before")


def test_demo_sealed_gives_the_sample_sealed_with_test_keys_and_tags_find_a_duplicate(tmp_path):
    """`demo --sealed` (the README's command): the replayed sample, sealed to TEST keys, verifies; the
    TEST build key writes signed tags; a child filed twice is then found with no key."""
    data = tmp_path / "data"
    subprocess.run([sys.executable, "-m", "jinqiu.sample", str(data), "--applications", "12"], check=True,
                   capture_output=True, cwd=Path(__file__).resolve().parents[1])
    out_dir = tmp_path / "演示"
    code, out, err = run("demo", "--sealed", "--data", data, "--out", out_dir)
    assert code == 0 and "个人信息已加密保存" in out and "0 个错误" in out + err, out + err
    repo_data, ids, keys = out_dir / "repo" / "data", out_dir / "identities", out_dir / "keyring"
    apps = sorted((repo_data / "applications").rglob("*.yaml"))
    assert apps and all("ENC[jq1," in p.read_text(encoding="utf-8") for p in apps)
    keyed = ["--identity", ids / "build", "--keys", keys]
    code, out, err = run("tags", "--data", repo_data, *keyed, "--signing-key", ids / "build_ssh", "--today", TODAY)
    assert code == 0 and "已写入" in err, out + err
    # a clerk of another union files the same child in clear (new), seals it with the public key only
    src = next(p for p in sorted((data / "applications").rglob("*.yaml")) if p.parent.parent.name == apps[0].parent.parent.name)
    year, unit = int(src.parent.parent.name), src.parent.name
    units = [u["id"] for u in yaml.safe_load((data / "units.yaml").read_text(encoding="utf-8"))["units"]
             if u.get("kind") in ("enterprise", "street") and u["id"] != unit]
    other = units[0]
    record = yaml.safe_load(src.read_text(encoding="utf-8"))
    record.update(id=f"{year}-{other}-999", unit=other, approvals=[])
    record.pop("funding_unit", None)
    rel = f"applications/{year}/{other}/{year}-{other}-999.yaml"
    (repo_data / rel).parent.mkdir(parents=True, exist_ok=True)
    (repo_data / rel).write_text(yaml.safe_dump(record, allow_unicode=True, sort_keys=False), encoding="utf-8")
    code, out, err = run("seal", "--data", repo_data, rel)
    assert code == 0 and "ENC[jq1," in (repo_data / rel).read_text(encoding="utf-8"), out + err
    code, out, err = run("validate", "--data", repo_data, "--no-cache")
    assert "重复资助" not in out, out  # no tags for the new file yet
    code, out, err = run("validate", "--data", repo_data, "--keyed", *keyed)
    assert "重复资助" in out and rel in out, out + err
    assert run("tags", "--data", repo_data, *keyed, "--signing-key", ids / "build_ssh", "--today", TODAY)[0] == 0
    code, out, err = run("validate", "--data", repo_data, "--no-cache")
    assert code == 1 and "重复资助" in out and "按构建机的查重标记" in out and rel in out, out + err
