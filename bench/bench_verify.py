#!/usr/bin/env python3
"""Benchmark verify against git's own signature checking.

Builds a repository of N applications (default 10,000) with three approvals each, one signed commit
per approval (3N commits signed in-process with Ed25519 TEST keys, objects written directly), then
times: `build.py verify` (first run, no cache), the second run with no new commits (cache), and
`git log --format=%G?` over the same commits (git calls ssh-keygen once per commit).

Usage: python bench/bench_verify.py [--applications N] [--dir DIR] [--skip-git]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402

from jinqiu.check import validate  # noqa: E402
from jinqiu.records import layout, yamlstrict
from jinqiu.sample import demo
from jinqiu.trust import digest, sshsig, verify


class ObjectWriter:
    """Git objects collected in memory and written as one pack (loose files are slow to create)."""

    TYPES = {"commit": 1, "tree": 2, "blob": 3}

    def __init__(self, git_dir: Path):
        self.git_dir = git_dir
        self.seen = set()
        self.chunks = []

    def write(self, kind: str, body: bytes) -> str:
        oid = hashlib.sha1(f"{kind} {len(body)}\0".encode() + body).hexdigest()
        if oid not in self.seen:
            self.seen.add(oid)
            size = len(body)
            byte = (self.TYPES[kind] << 4) | (size & 0x0F)
            size >>= 4
            head = bytearray()
            while size:
                head.append(byte | 0x80)
                byte = size & 0x7F
                size >>= 7
            head.append(byte)
            self.chunks.append(bytes(head) + zlib.compress(body, 1))
        return oid

    def close(self) -> None:
        pack = b"PACK" + struct.pack(">II", 2, len(self.chunks)) + b"".join(self.chunks)
        pack += hashlib.sha1(pack).digest()
        path = self.git_dir / "objects" / "pack" / "bench.pack"
        path.write_bytes(pack)
        subprocess.run(["git", "--git-dir", str(self.git_dir), "index-pack", str(path)], check=True, capture_output=True)


def tree(writer, entries: dict) -> str:
    """entries: name -> ("blob", oid) or ("tree", oid)."""
    def key(item):
        name, (kind, _) = item
        return name + "/" if kind == "tree" else name
    body = b"".join((b"100644 " if kind == "blob" else b"40000 ") + name.encode() + b"\0" + bytes.fromhex(oid)
                    for name, (kind, oid) in sorted(entries.items(), key=key))
    return writer.write("tree", body)


def pub_line(key) -> str:
    import base64
    raw = key.public_key().public_bytes_raw()
    blob = sshsig._string(b"ssh-ed25519") + sshsig._string(raw)
    return "ssh-ed25519 " + base64.b64encode(blob).decode() + " " + demo.TEST_COMMENT


def build(root: Path, n: int) -> Path:
    repo = root / "repo"
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    w = ObjectWriter(repo / ".git")
    units_per_district, districts = 10, 10
    per_unit = max(1, n // (units_per_district * districts))
    keys, reviewers, units = {}, [], ["units:", "- id: dl", "  name: 大连市总工会", "  kind: city"]

    def reviewer(rid, unit, level, admin=False):
        keys[rid] = Ed25519PrivateKey.generate()
        reviewers.append(demo.reviewer_yaml(rid, f"审核{rid[-4:]}", unit, level, [{"public_key": pub_line(keys[rid])}], admin=admin))

    reviewer("r-dl-01", "dl", 3, admin=True)
    grassroots = []
    for d in range(districts):
        did = f"dl-d{d:02d}"
        units += [f"- id: {did}", f"  name: 第{d}区总工会", "  kind: district", "  parent: dl"]
        reviewer(f"r-{did}", did, 2)
        for u in range(units_per_district):
            uid = f"{did}-{u:04d}"
            units += [f"- id: {uid}", f"  name: 第{d}区第{u}企业工会", "  kind: enterprise", f"  parent: {did}"]
            reviewer(f"r-{uid}", uid, 1)
            grassroots.append((uid, did))
    files: dict[str, bytes] = {"units.yaml": ("\n".join(units) + "\n").encode(),
                               "reviewers.yaml": ("reviewers:\n" + "".join(reviewers)).encode()}
    root_fpr = sshsig.fingerprint(sshsig._string(b'ssh-ed25519') + sshsig._string(keys['r-dl-01'].public_key().public_bytes_raw()))
    files_root = {"root-of-trust.txt": f"# TEST\n{root_fpr}\n".encode()}
    # the root is pinned outside the data (docs/trust.md); the file in the data states it
    subprocess.run(["git", "-C", str(repo), "config", "jinqiu.rootKey", root_fpr], check=True)

    # state: rel -> blob oid; unit dir trees cached and rebuilt only for the unit that changed
    blob_of = {}
    unit_files: dict[str, dict] = {}
    unit_tree: dict[str, str] = {}

    def top_tree():
        years = tree(w, {uid: ("tree", t) for uid, t in unit_tree.items()})
        data = tree(w, {"units.yaml": ("blob", blob_of["units.yaml"]), "reviewers.yaml": ("blob", blob_of["reviewers.yaml"]),
                        "root-of-trust.txt": ("blob", blob_of["root-of-trust.txt"]),
                        "applications": ("tree", tree(w, {"2011": ("tree", years)}))})
        return tree(w, {"data": ("tree", data)})

    clock = [1300000000]
    parent = [None]

    def commit(message, signer=None):
        clock[0] += 60
        header = f"tree {top_tree()}\n" + (f"parent {parent[0]}\n" if parent[0] else "")
        who = f"Bench <bench@jinqiu.invalid> {clock[0]} +0800"
        header += f"author {who}\ncommitter {who}\n"
        body = f"\n{message}\n"
        payload = (header + body).encode()
        if signer:
            sig = sshsig.sign(keys[signer], payload, "git").decode().rstrip("\n")
            header += "gpgsig " + sig.replace("\n", "\n ") + "\n"
        parent[0] = w.write("commit", (header + body).encode())

    for rel, text in files.items():
        blob_of[rel] = w.write("blob", text)
    blob_of["root-of-trust.txt"] = w.write("blob", files_root["root-of-trust.txt"])
    commit("Register reviewers", "r-dl-01")

    texts = {}
    for uid, did in grassroots:
        unit_files[uid] = {}
        for i in range(per_unit):
            rid = f"2011-{uid}-{i:03d}"
            text = demo.application_yaml(rid, uid, worker_seq=i, funding_unit="dl")
            texts[(uid, rid)] = text
            unit_files[uid][f"{rid}.yaml"] = w.write("blob", text.encode())
        unit_tree[uid] = tree(w, {k: ("blob", v) for k, v in unit_files[uid].items()})
    commit("File the applications")
    # digests (content never changes after filing)
    schema = layout.schema("application")
    digests = {}
    for key, text in texts.items():
        t, _ = yamlstrict.load(text.encode(), "x")
        data, _ = yamlstrict.coerce(t, schema, "x", lambda p: 1)
        digests[key] = digest.of(data)
    from jinqiu.trust.approve import append_entry
    for level in (1, 2, 3):
        for (uid, rid), text in texts.items():
            did = uid.rsplit("-", 1)[0]
            reviewer_id = {1: f"r-{uid}", 2: f"r-{did}", 3: "r-dl-01"}[level]
            entry = {"level": level, "decision": "approve", "opinion": "同意", "reviewer": reviewer_id,
                     "date": "2011-07-2" + str(level), "digest": digests[(uid, rid)]}
            text = append_entry(text, entry)
            texts[(uid, rid)] = text
            unit_files[uid][f"{rid}.yaml"] = w.write("blob", text.encode())
            unit_tree[uid] = tree(w, {k: ("blob", v) for k, v in unit_files[uid].items()})
            commit(f"Approve {rid} at level {level}", reviewer_id)
    w.close()
    (repo / ".git" / "refs" / "heads" / "main").write_text(parent[0] + "\n")
    subprocess.run(["git", "-C", str(repo), "reset", "-q", "--hard"], check=True)
    # allowed signers for git's own check
    with open(root / "allowed_signers", "w") as f:
        for rid, k in keys.items():
            f.write(f"{rid} {pub_line(k)}\n")
    return repo


def timed(fn):
    t = time.perf_counter()
    result = fn()
    return time.perf_counter() - t, result


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--applications", type=int, default=10000)
    ap.add_argument("--dir")
    ap.add_argument("--skip-git", action="store_true", help="do not time git log --format=%%G?")
    args = ap.parse_args()
    holder = None
    if args.dir:
        root = Path(args.dir)
        root.mkdir(parents=True, exist_ok=True)
    else:
        holder = tempfile.TemporaryDirectory(prefix="jinqiu-bench-")
        root = Path(holder.name)
    t, repo = timed(lambda: build(root, args.applications))
    commits = subprocess.run(["git", "-C", str(repo), "rev-list", "--count", "HEAD"], capture_output=True, text=True).stdout.strip()
    print(f"built {args.applications} applications, {commits} commits in {t:.1f} s")
    data = repo / "data"
    env = dict(os.environ)
    t_load, dataset = timed(lambda: validate.load(data, "data"))
    t1, (statuses, problems) = timed(lambda: verify.run(repo, data, display_root="data", dataset=dataset, use_cache=False))
    errors = [p for p in problems if p.severity == "error"]
    print(f"verify, first run: {t1:.2f} s (+ {t_load:.2f} s loading the data); {len(errors)} errors;"
          f" {sum(1 for s in statuses.values() if s.level == 3)} applications approved at level 3"
          f" (root: {statuses.trust}, verified: {statuses.verified})")
    for p in errors[:5]:
        print("  ", p.text())
    t_cli1, _ = timed(lambda: subprocess.run([sys.executable, "build.py", "verify", "--data", str(data)], cwd=Path(__file__).resolve().parent.parent, capture_output=True))
    t_cli2, p2 = timed(lambda: subprocess.run([sys.executable, "build.py", "verify", "--data", str(data)], cwd=Path(__file__).resolve().parent.parent, capture_output=True, text=True))
    print(f"build.py verify (whole command, writes the cache): {t_cli1:.2f} s; second run, no new commits: {t_cli2:.2f} s (exit {p2.returncode})")
    if not args.skip_git:
        cmd = ["git", "-C", str(repo), "-c", f"gpg.ssh.allowedSignersFile={root / 'allowed_signers'}", "log", "--format=%G?"]
        t_git, out = timed(lambda: subprocess.run(cmd, capture_output=True, text=True))
        marks = out.stdout.split()
        print(f"git log --format=%G? over the same {len(marks)} commits: {t_git:.2f} s "
              f"({marks.count('G')} good, {marks.count('N')} unsigned)")
        print(f"verify is {t_git / t1:.1f}x faster than git (first run, data already loaded); "
              f"{t_git / t_cli1:.1f}x counting the whole command")
    if holder:
        holder.cleanup()


if __name__ == "__main__":
    main()
