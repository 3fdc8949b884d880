#!/usr/bin/env python3
"""Personal data sealed at rest (issue 21): what sealing costs at N applications.

    python bench/bench_sealed.py 10000 100000

For each N: generate a clear data tree (jinqiu.sample.generate), copy it and seal the copy with TEST
keys (jinqiu.sample.sealed.seal_tree: every application and graduate record of every year), then
time, each as its own process with no cache:
  clear      validate on the clear tree (today's baseline)
  keyless    validate on the sealed tree with no key (the pull-request and public tier)
  keyed      validate --keyed on the sealed tree with the city build key (the city runner's tier)
  scan       check-sealed on the sealed tree (keyless; the pre-merge check)
  tags       tags: the city build opens every sealed record and writes the signed duplicate tags
  tagged     validate on the sealed tree with no key, using those tags (the pull-request tier's duplicates)
  tags-1     tags again after one record changed (a clerk's correction sealed with `seal`): the daily case
and in this process: the approval digest of every record, v1 on the clear tree and v2 on the sealed
one; the time to seal the tree (what the writers pay, all at once); the size of the application files
and of a git pack of them (git gc --aggressive) for both trees.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def timed(cmd, **kw) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, **kw)
    return time.perf_counter() - start, proc


def tree_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*.yaml"))


def pack_size(folder: Path, work: Path) -> int:
    import os

    repo = work / f"pack-{folder.parent.parent.name}"
    shutil.copytree(folder, repo / "applications")
    env = {**os.environ, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@b", "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@b"}
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "--no-gpg-sign", "-m", "x"], ["gc", "-q", "--aggressive"]):
        p = subprocess.run(["git", "-c", "gc.auto=0", "-C", str(repo), *args], capture_output=True, text=True, env=env)
        if p.returncode != 0:
            raise RuntimeError(f"git {args[0]}: {p.stderr}")
    size = sum(p.stat().st_size for p in (repo / ".git" / "objects" / "pack").glob("*.pack"))
    shutil.rmtree(repo)
    return size


def digests(data: Path) -> float:
    from jinqiu.check import validate
    from jinqiu.trust import digest

    records = [r for r in validate.load(data, str(data)).records if r.kind == "application" and r.data is not None]
    start = time.perf_counter()
    for r in records:
        digest.of(r.data)
    return time.perf_counter() - start


def main(argv=None) -> int:
    from jinqiu.sample import generate as sample
    from jinqiu.sample import sealed as sealed_sample
    from jinqiu.trust import keyring

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sizes", nargs="*", type=int, default=[10000])
    ap.add_argument("--no-pack", action="store_true", help="skip the git pack sizes (slow at 100,000)")
    ap.add_argument("--sizes-only", action="store_true",
                    help="only seal and measure the files and packs (no timed validate runs, no digests)")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--build", action="store_true",
                    help="also time the site build (no PDF) of the sealed tree without a key and with the city key")
    args = ap.parse_args(argv)
    print(f"{'N':>7} {'apps':>7} {'seal s':>7} {'clear s':>8} {'keyless s':>9} {'keyed s':>8} {'scan s':>7} {'tags s':>7} {'tagged s':>8} {'tags-1 s':>8} "
          f"{'v1 s':>6} {'v2 s':>6} {'files MB clear/sealed':>22} {'pack MB clear/sealed':>21}")
    for n in args.sizes:
        work = Path(tempfile.mkdtemp(prefix=f"jinqiu-bench-sealed-{n}-"))
        clear, tree, ssh_keys = work / "clear" / "data", work / "sealed" / "data", work / "ssh"
        sample.generate(clear, applications_per_year=max(1, n // 3), keys_dir=ssh_keys)
        shutil.copytree(clear, tree)
        from jinqiu.check import validate

        admin = next(rid for rid, r in validate.load(clear, str(clear)).reviewers.items() if r.get("admin") is True)
        start = time.perf_counter()
        sealed_sample.seal_tree(tree, work / "identities", work / "keyring", keyring.ssh_signer(ssh_keys / admin))
        t_seal = time.perf_counter() - start
        apps = sum(1 for _ in (tree / "applications").rglob("*.yaml"))
        build = [sys.executable, str(ROOT / "build.py")]
        mb = 1024 * 1024
        files = f"{tree_size(clear / 'applications') / mb:.1f}/{tree_size(tree / 'applications') / mb:.1f}"
        if args.sizes_only:
            packs = "-" if args.no_pack else \
                f"{pack_size(clear / 'applications', work) / mb:.1f}/{pack_size(tree / 'applications', work) / mb:.1f}"
            print(f"{n:>7} {apps:>7} {t_seal:>7.1f} {'-':>8} {'-':>9} {'-':>8} {'-':>7} {'-':>7} {'-':>8} {'-':>8} {'-':>6} {'-':>6} {files:>22} {packs:>21}",
                  flush=True)
            if not args.keep:
                shutil.rmtree(work)
            continue
        t_clear, p1 = timed(build + ["validate", "--data", str(clear), "--no-cache"])
        t_keyless, p2 = timed(build + ["validate", "--data", str(tree), "--no-cache"])
        t_keyed, p3 = timed(build + ["validate", "--data", str(tree), "--keyed", "--identity", str(work / "identities" / "build"),
                                    "--keys", str(work / "keyring")])
        t_scan, p4 = timed(build + ["check-sealed", "--data", str(tree)])
        t_tags, p5 = timed(build + ["tags", "--data", str(tree), "--identity", str(work / "identities" / "build"),
                                    "--keys", str(work / "keyring"), "--signing-key", str(work / "identities" / "build_ssh")])
        t_tagged, p6 = timed(build + ["validate", "--data", str(tree), "--no-cache"])
        one = next(p for p in sorted((clear / "applications").rglob("*.yaml")))
        rel = one.relative_to(clear).as_posix()
        import re

        (tree / rel).write_text(re.sub(r'(phone: "[0-9]{10})([0-9])"', lambda m: m[1] + ("8" if m[2] == "9" else "9") + '"',
                                       one.read_text(encoding="utf-8"), count=1), encoding="utf-8")
        p_seal = subprocess.run(build + ["seal", "--data", str(tree), rel], capture_output=True, text=True)
        t_tags1, p7 = timed(build + ["tags", "--data", str(tree), "--identity", str(work / "identities" / "build"),
                                     "--keys", str(work / "keyring"), "--signing-key", str(work / "identities" / "build_ssh")])
        if p_seal.returncode != 0 or "1 份新增或改动" not in p7.stderr:
            print(f"tags-1: {p_seal.stderr[-1000:]} {p7.stderr[-1000:]}", file=sys.stderr)
            return 1
        for name, p in (("clear", p1), ("keyless", p2), ("keyed", p3), ("scan", p4), ("tags", p5), ("tagged", p6)):
            if p.returncode not in (0, 1):
                print(f"{name}: {p.stderr[-2000:]}", file=sys.stderr)
                return 1
        if args.build:
            out = work / "out"
            t_build, b1 = timed(build + ["build", "--data", str(tree), "--out", str(out / "keyless"), "--no-pdf", "--no-cache",
                                         "--allow-invalid", "--today", "2011-09-03"])
            t_build_keyed, b2 = timed(build + ["build", "--data", str(tree), "--out", str(out / "keyed"), "--no-pdf", "--no-cache",
                                               "--allow-invalid", "--today", "2011-09-03", "--keyed",
                                               "--identity", str(work / "identities" / "build"), "--keys", str(work / "keyring")])
            for name, p in (("build", b1), ("build --keyed", b2)):
                if p.returncode != 0:
                    print(f"{name}: {p.stderr[-2000:]}", file=sys.stderr)
                    return 1
            print(f"# N={n}: build (no PDF) of the sealed tree: keyless {t_build:.1f} s, keyed {t_build_keyed:.1f} s "
                  f"(site pages: {sum(1 for _ in (out / 'keyless').rglob('*.html'))} / {sum(1 for _ in (out / 'keyed').rglob('*.html'))})",
                  flush=True)
        v1, v2 = digests(clear), digests(tree)
        print(f"{n:>7} {apps:>7} {t_seal:>7.1f} {t_clear:>8.1f} {t_keyless:>9.1f} {t_keyed:>8.1f} {t_scan:>7.1f} {t_tags:>7.1f} {t_tagged:>8.1f} {t_tags1:>8.1f} "
              f"{v1:>6.2f} {v2:>6.2f} {files:>22}", end="", flush=True)
        packs = "-" if args.no_pack else \
            f"{pack_size(clear / 'applications', work) / mb:.1f}/{pack_size(tree / 'applications', work) / mb:.1f}"
        print(f" {packs:>21}", flush=True)
        if not args.keep:
            shutil.rmtree(work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
