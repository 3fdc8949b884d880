"""The caches of validate and verify: data (JSON), never code; outside every work tree; bound to
the content they speak for; and never able to hide an error (a forged, edited or broken cache
costs a full recheck, nothing more). Real git repositories, real ssh-keygen keys."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from jinqiu.check import cache
from jinqiu.sample import demo
from jinqiu.trust import signatures, status, verify

ROOT = Path(__file__).resolve().parent.parent
A4 = "applications/2011/dl-jx-0001/2011-dl-jx-0001-001.yaml"
APP = "applications/2011/dl-zs-0001/2011-dl-zs-0001-001.yaml"


def run(*args, cwd=None, env=None):
    proc = subprocess.run([sys.executable, str(ROOT / "build.py"), *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, **(env or {})})
    return proc.returncode, proc.stdout, proc.stderr


def break_id(data: Path) -> None:
    path = data / A4
    text = path.read_text(encoding="utf-8")
    number = next(line.split('"')[1] for line in text.splitlines() if "id_number" in line)
    path.write_text(text.replace(number, number[:17] + ("1" if number[17] != "1" else "2")), encoding="utf-8")


def age(data: Path) -> None:
    """Make every file's time stamps old enough for the stat index to trust them."""
    past = time.time() - 60
    for p in data.rglob("*.yaml"):
        os.utime(p, (past, past))


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, **demo.GIT_ID}
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env=env).stdout


@pytest.fixture
def repo(tmp_path):
    """A git repository whose data/ is the small valid tree with one bad ID number, committed."""
    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "tests" / "cases" / "base", repo / "data")
    break_id(repo / "data")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "data")
    return repo


class Payload:
    """A pickle that runs code when loaded."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_a_committed_pickle_at_the_old_path_is_neither_run_nor_trusted(repo, tmp_path):
    marker = tmp_path / "code-ran"
    old = repo / ".jinqiu-cache"
    old.mkdir()
    name = hashlib.sha256(str((repo / "data").resolve()).encode()).hexdigest()[:16]
    for kind in ("stat", "result"):
        (old / f"{kind}-{name}.pickle").write_bytes(pickle.dumps((Payload(marker), [])))
    git(repo, "add", "-f", ".jinqiu-cache")
    git(repo, "commit", "-q", "-m", "a cache, committed")
    code, out, err = run("validate", "--data", "data", cwd=repo)
    assert code == 1 and "身份证号码" in out and "缓存" not in err, out + err
    code, out, err = run("validate", "--data", "data", cwd=repo)  # now from our own cache: the error still there
    assert code == 1 and "身份证号码" in out, out + err
    assert not marker.exists()
    for module in cache.PACKAGE.rglob("*.py"):  # nothing of ours reads a pickle
        assert "import pickle" not in module.read_text(encoding="utf-8"), module


def test_the_cache_lives_in_the_git_directory_and_never_in_the_work_tree(repo):
    age(repo / "data")
    run("validate", "--data", "data", cwd=repo)
    code, out, err = run("validate", "--data", "data", cwd=repo)
    assert code == 1 and "缓存" in err and "身份证号码" in out  # a cached run still reports the error
    assert git(repo, "status", "--porcelain", "--ignored", "--untracked-files=all") == ""
    files = list((repo / ".git" / "jinqiu-cache").glob("*.json"))
    assert files
    for f in files:
        mac, _, body = f.read_bytes().partition(b"\n")
        assert len(mac) == 64 and json.loads(body)["format"] == cache.FORMAT


def test_a_cache_home_inside_a_work_tree_is_never_used(base_data, tmp_path):
    """Data outside git caches under $XDG_CACHE_HOME, unless that lies in a work tree (committable)."""
    tree = tmp_path / "checkout"
    tree.mkdir()
    git(tree, "init", "-q")
    home = tree / "cache"
    env = {"XDG_CACHE_HOME": str(home)}
    age(base_data)
    for _ in range(3):
        code, _, err = run("validate", "--data", str(base_data), env=env)
        assert code == 0 and "缓存" not in err
    assert not home.exists()
    # a key planted there (as if committed) is not used either
    assert cache.in_work_tree(home)
    assert not cache.Store(base_data).usable or cache.user_cache_home() != home / "jinqiu"


def _store_file(data: Path, prefix: str) -> Path:
    store = cache.Store(data)
    found = [p for p in store.dir.glob(f"{prefix}-*.json")]
    assert len(found) == 1, found
    return found[0]


def _rewrite(path: Path, edit, mac: bytes | None = None) -> None:
    old_mac, _, body = path.read_bytes().partition(b"\n")
    doc = json.loads(body)
    edit(doc)
    path.write_bytes((mac or old_mac) + b"\n" + json.dumps(doc, ensure_ascii=False).encode())


def test_an_edited_or_forged_validate_cache_does_not_hide_an_error(base_data):
    break_id(base_data)
    age(base_data)
    run("validate", "--data", str(base_data))
    code, out, err = run("validate", "--data", str(base_data))
    assert code == 1 and "缓存" in err
    result = _store_file(base_data, "validate")

    def clear(doc):
        doc["value"] = []

    # the problems removed, the old MAC kept
    _rewrite(result, clear)
    code, out, err = run("validate", "--data", str(base_data))
    assert code == 1 and "身份证号码" in out and "缓存" not in err
    # the problems removed and a MAC made with another secret (as anyone could, from the content)
    key = cache.Store(base_data).get("nothing", "x")  # noqa: F841  (the store is readable)
    fake = __import__("hmac").new(b"\0" * 32, b"", "sha256").hexdigest().encode()
    _rewrite(result, clear, mac=fake)
    code, out, err = run("validate", "--data", str(base_data))
    assert code == 1 and "身份证号码" in out and "缓存" not in err
    # garbage: a recheck, no traceback
    for f in (result, _store_file(base_data, "stat")):
        f.write_bytes(b"\x80\x04garbage\n{")
    code, out, err = run("validate", "--data", str(base_data))
    assert code == 1 and "Traceback" not in err and "身份证号码" in out


def test_an_edited_stat_index_does_not_vouch_for_changed_content(base_data):
    age(base_data)
    run("validate", "--data", str(base_data))
    assert run("validate", "--data", str(base_data))[0] == 0
    stat = _store_file(base_data, "stat")
    break_id(base_data)
    st = (base_data / A4).stat()

    def vouch(doc):  # the changed file's new stat, with the digest of its old content
        old_digest = doc["value"]["entries"][A4].rsplit(":", 1)[1]
        doc["value"]["entries"][A4] = f"{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}:{old_digest}"
        doc["value"]["written_at"] = time.time() + 3600

    _rewrite(stat, vouch)
    code, out, err = run("validate", "--data", str(base_data))
    assert code == 1 and "身份证号码" in out and "缓存" not in err


def _approved_by_the_wrong_key(tmp_path):
    """A repository whose one application has a level-1 entry naming r-zs1-01, committed and signed by r-zs2-01."""
    from tests.test_verify import entry

    lab = demo.Lab(tmp_path)
    demo.world(lab)
    lab.write(APP, demo.application_yaml("2011-dl-zs-0001-001", "dl-zs-0001"))
    lab.commit("File", date="2011-07-20")
    entry(lab, APP, 1, "r-zs1-01")
    lab.commit("Approve, signed by someone else", key="r-zs2-01", date="2011-07-21")
    return lab


def test_an_edited_verify_cache_does_not_hide_an_error(tmp_path, monkeypatch):
    lab = _approved_by_the_wrong_key(tmp_path)
    statuses, problems = verify.run(None, lab.data, display_root="data")
    assert any(p.code == "approval-signer-mismatch" for p in problems)
    assert statuses[APP].state == status.FILED
    assert verify.run(None, lab.data, display_root="data") == (statuses, problems)  # from the cache
    path = _store_file(lab.data, "verify")

    def forge(doc):
        doc["value"]["problems"] = []
        doc["value"]["statuses"][APP][:2] = ["approved", 1]  # [state, level, complete, verified, proofs]

    _rewrite(path, forge)
    again, found = verify.run(None, lab.data, display_root="data")
    assert again[APP].state == status.FILED
    assert any(p.code == "approval-signer-mismatch" for p in found)
    path.write_bytes(b"not json at all")
    assert verify.run(None, lab.data, display_root="data") == (statuses, problems)


def test_the_content_key_covers_every_input(base_data):
    index = cache.ContentIndex(base_data)
    rels = sorted(p.relative_to(base_data).as_posix() for p in base_data.rglob("*.yaml"))
    key = cache.run_key(base_data, "data", rels, index)
    assert cache.run_key(base_data, "other", rels, index) != key  # the paths shown
    (base_data / rels[0]).write_text((base_data / rels[0]).read_text() + "\n# 注释\n", encoding="utf-8")
    assert cache.run_key(base_data, "data", rels, index) != key  # a file's content
    assert cache.run_key(base_data, "data", rels[1:], index) != cache.run_key(base_data, "data", rels, index)  # the set of files


def test_signature_checks_are_remembered_and_a_forged_memory_proves_nothing(tmp_path, monkeypatch):
    """verify remembers which SSH signatures were good for which bytes (SignatureMemo), so a run
    after a new commit checks only new signatures; an edited memory (wrong HMAC) is ignored, and a
    signature it says is good still has to belong to the reviewer the entry names."""
    lab = _approved_by_the_wrong_key(tmp_path)
    checked = []
    real = signatures.ssh_check
    monkeypatch.setattr(signatures, "ssh_check", lambda *a: checked.append(a) or real(*a))
    statuses, problems = verify.run(None, lab.data, display_root="data", use_cache=True)
    assert checked and any(p.code == "approval-signer-mismatch" for p in problems)
    first = len(checked)
    lab.write("README.md", "改动与审批无关\n")
    lab.commit("Unrelated", key="r-zs1-01", date="2011-07-22")  # a new HEAD: the verify cache does not apply
    checked.clear()
    again = verify.run(None, lab.data, display_root="data", use_cache=True)
    assert again[1] == problems and again[0][APP] == statuses[APP]
    assert len(checked) < first  # the commits checked before were not checked again
    memo = _store_file(lab.data, "signatures")

    def vouch(doc):  # every remembered check made to say: good, by the key of the reviewer the entry names
        who = lab.fingerprint("r-zs1-01")
        doc["value"] = {k: [who, None] for k in doc["value"]}

    _rewrite(memo, vouch)
    lab.write("README.md", "又一次改动\n")
    lab.commit("Unrelated again", key="r-zs1-01", date="2011-07-23")
    statuses2, problems2 = verify.run(None, lab.data, display_root="data", use_cache=True)
    assert statuses2[APP].state == status.FILED
    assert any(p.code == "approval-signer-mismatch" for p in problems2)
