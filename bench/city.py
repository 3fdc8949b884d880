"""A benchmark city: the synthetic sample as a real city keeps it, made fast enough for 100,000
applications.

    python bench/city.py DIR --applications N

The sample (jinqiu.sample.generate, N // 3 applications a year for 3 years) is signed with keys of
its own (--key-seed: not the published TEST keys, so verify runs as in a real city, under a root
pinned in the clone's git config jinqiu.rootKey, and checks the history of the trust data), and its
history is the one a city's repository has, written straight into a pack (bench_verify's way):

  1. the trust data (units, reviewers, campaigns, root file), signed by the city's administrator;
  2. each year, the applications, graduates and reports as filed (no approval, no payout);
  3. each level's approvals, one commit per reviewer a year, signed by that reviewer's key (the
     entries carry their detached signatures as `approve` writes them), dated on the last
     approval's day (or the commit before, whichever is later), a level after the one below;
  4. each payout, one commit per paying reviewer a year, signed by that reviewer.

So every approved application's file has a version per level, as verify, the over-time chart and
the removed-entries check read them in a real repository. The reviewers' private keys are in
DIR/keys (named by reviewer), for `approve`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from cryptography.hazmat.primitives.serialization import load_ssh_private_key  # noqa: E402

from bench_verify import ObjectWriter  # noqa: E402
from jinqiu.records import yamlstrict  # noqa: E402
from jinqiu.sample import generate as gen  # noqa: E402
from jinqiu.trust import anchor, sshsig  # noqa: E402

KEY_SEED = 4242
_PAID = re.compile(r"(?m)^  paid_(on|by): .*\n|^  paid_signature: \|\n(?:    .*\n)*")
_ENTRY = re.compile(r"(?m)^- level: ")


class Trees:
    """The repository's tree, kept as one dict per folder; a commit writes the folders that changed."""

    def __init__(self, writer: ObjectWriter):
        self.w = writer
        self.dirs: dict[str, dict[str, tuple[str, str]]] = {"": {}}
        self.oid: dict[str, str] = {}

    def put(self, path: str, blob: str) -> None:
        parts = path.split("/")
        for i in range(len(parts) - 1):
            folder, name = "/".join(parts[:i]), parts[i]
            child = "/".join(parts[:i + 1])
            self.dirs.setdefault(child, {})
            self.dirs.setdefault(folder, {})[name] = ("tree", child)
            self.oid.pop(folder, None)
        folder = "/".join(parts[:-1])
        self.dirs[folder][parts[-1]] = ("blob", blob)
        while True:
            self.oid.pop(folder, None)
            if not folder:
                break
            folder = folder.rsplit("/", 1)[0] if "/" in folder else ""

    def write(self, folder: str = "") -> str:
        if folder in self.oid:
            return self.oid[folder]
        entries = {}
        for name, (kind, ref) in self.dirs[folder].items():
            entries[name] = (kind, self.write(ref) if kind == "tree" else ref)

        def key(item):
            name, (kind, _) = item
            return name + "/" if kind == "tree" else name
        body = b"".join((b"100644 " if kind == "blob" else b"40000 ") + name.encode() + b"\0" + bytes.fromhex(oid)
                        for name, (kind, oid) in sorted(entries.items(), key=key))
        self.oid[folder] = oid = self.w.write("tree", body)
        return oid


def versions(text: str) -> tuple[list[str], str | None]:
    """(the file as filed, then after each level's approval; the file with its payout, or None)."""
    plain = _PAID.sub("", text)
    m = re.search(r"(?m)^approvals:\n", plain)
    starts = [e.start() for e in _ENTRY.finditer(plain, m.end())] if m else []
    if not starts:
        return [plain], (text if plain != text else None)
    out = [plain[:m.start()] + "approvals: []\n"]
    out += [plain[:end] for end in starts[1:]] + [plain]
    return out, (text if plain != text else None)


def make_city(root: Path, applications: int, log=print) -> Path:
    """DIR/repo (data in DIR/repo/data) with the history above; returns the data directory."""
    t0 = time.perf_counter()
    staging, keys_dir, repo = root / "staging", root / "keys", root / "repo"
    for d in (staging, repo):
        shutil.rmtree(d, ignore_errors=True)
    gen.generate(staging, applications_per_year=max(1, applications // 3), keys_dir=keys_dir, key_seed=KEY_SEED)
    log(f"generated in {time.perf_counter() - t0:.0f} s")
    keys = {p.name: load_ssh_private_key(p.read_bytes(), None) for p in keys_dir.iterdir() if not p.suffix}
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    w = ObjectWriter(repo / ".git")
    trees = Trees(w)
    parent: list = [None]

    def commit(message: str, day: str, signer: str | None) -> None:
        stamp = int(dt.datetime.fromisoformat(f"{day}T10:00:00+08:00").timestamp())
        header = f"tree {trees.write()}\n" + (f"parent {parent[0]}\n" if parent[0] else "")
        who = f"Jinqiu Bench <bench@jinqiu.invalid> {stamp} +0800"
        header += f"author {who}\ncommitter {who}\n"
        body = f"\n{message}\n"
        if signer:
            sig = sshsig.sign(keys[signer], (header + body).encode(), "git").decode().rstrip("\n")
            header += "gpgsig " + sig.replace("\n", "\n ") + "\n"
        parent[0] = w.write("commit", (header + body).encode())

    files = sorted(p.relative_to(staging).as_posix() for p in staging.rglob("*") if p.is_file())
    trust = [rel for rel in files if anchor.is_trust(rel)]
    root_text = (staging / anchor.ROOT_FILE).read_text(encoding="utf-8")
    admin = re.search(r"#\s*(\S+)", root_text.splitlines()[-1]).group(1)
    for rel in trust:
        trees.put(f"data/{rel}", w.write("blob", (staging / rel).read_bytes()))
    commit("登记工会、审核人和活动", "2009-06-01", admin)
    groups: dict[tuple, list] = {}  # (day, order, reviewer) -> [(rel, text)]
    for year in sorted({rel.split("/")[1] for rel in files if rel.startswith(("applications/", "graduates/", "reports/"))}):
        filed = [rel for rel in files if rel.startswith((f"applications/{year}/", f"graduates/{year}/", f"reports/{year}/"))]
        first_day = None
        for rel in filed:
            text = (staging / rel).read_text(encoding="utf-8")
            if not rel.startswith("applications/"):
                trees.put(f"data/{rel}", w.write("blob", text.encode()))
                continue
            steps, paid = versions(text)
            trees.put(f"data/{rel}", w.write("blob", steps[0].encode()))
            tree, _ = yamlstrict.load(text.encode(), rel)
            day = str(tree.get("filed_on"))
            first_day = day if first_day is None or day < first_day else first_day
            for n, entry in enumerate(tree.get("approvals") or []):
                groups.setdefault((str(entry["date"]), n + 1, str(entry["reviewer"])), []).append((rel, steps[n + 1]))
            if paid is not None:
                aid = tree["aid"]
                groups.setdefault((str(aid["paid_on"]), 9, str(aid["paid_by"])), []).append((rel, paid))
        commit(f"{year} 年度填报", first_day or f"{year}-07-01", None)
    # a reviewer's approvals of a year in one commit, on the day of the last of them
    merged: dict[tuple, list] = {}
    for (day, level, who), items in groups.items():
        key = (day[:4], level, who)
        last, got = merged.get(key, (day, []))
        merged[key] = (max(last, day), got + items)
    clock = ""
    for (year, level, who), (day, items) in sorted(merged.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[1][0], kv[0][2])):
        latest: dict[str, str] = {}
        for rel, text in items:
            latest[rel] = text
        for rel, text in sorted(latest.items()):
            trees.put(f"data/{rel}", w.write("blob", text.encode()))
        what = "发放" if level == 9 else f"第 {level} 级审批"
        clock = max(clock, day)  # a level's commits after the level below; the clock never goes back
        commit(f"{what}：{len(latest)} 份申请（{who}）", clock, who)
    w.close()
    (repo / ".git" / "refs" / "heads" / "main").write_text(parent[0] + "\n")
    subprocess.run(["git", "-C", str(repo), "reset", "-q", "--hard"], check=True)
    roots, _ = anchor.fingerprints(root_text)
    for fpr in sorted(roots):
        subprocess.run(["git", "-C", str(repo), "config", "--add", "jinqiu.rootKey", fpr], check=True)
    shutil.rmtree(staging)
    n = subprocess.run(["git", "-C", str(repo), "rev-list", "--count", "HEAD"], capture_output=True, text=True).stdout.strip()
    log(f"city of {applications} applications: {n} commits, in {time.perf_counter() - t0:.0f} s")
    return repo / "data"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dir", type=Path)
    ap.add_argument("--applications", type=int, default=10000)
    args = ap.parse_args(argv)
    make_city(args.dir, args.applications)
    return 0


if __name__ == "__main__":
    sys.exit(main())
