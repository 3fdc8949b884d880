"""Time the pull-request job on a large repository, cold, as the workflow runs it (issue 12: "Pull
requests at scale": validate and verify ≤ 30 s for a pull request touching 10 applications).

    python bench/bench_pr.py [--size 100000] [--keep /tmp/k] [--full] [--history N] [--work DIR]

The repository is --keep/<size> (made by bench_build.make_tree when missing: the sample generator
with size // 3 applications a year for 3 years, committed; an existing one is only read, never
changed). It is cloned afresh (`git clone --no-local`: no cache, no index from before), a branch
makes the pull request (9 applications edited in 3 commits, 1 new application), and each step of
.github/workflows/pull-request.yml and fmt.yml runs as a subprocess from the clone with this
checkout's build.py as the base code and an empty $XDG_CACHE_HOME. --full also times the full run
(validate of the whole tree, verify of the whole tree) for comparison. --history N first adds N
commits to the clone's main (each editing one application), so that the history is not just the
generator's two commits. Prints seconds per step and the load average (the machine is shared: note
it beside the figures).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BUILD = HERE.parent / "build.py"
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

ENV = {"GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@jinqiu.invalid", "GIT_COMMITTER_NAME": "bench",
       "GIT_COMMITTER_EMAIL": "bench@jinqiu.invalid"}


def git(repo: Path, *args: str) -> str:
    p = subprocess.run(["git", "-C", str(repo), "-c", "commit.gpgsign=false", *args], capture_output=True, text=True,
                       env={**os.environ, **ENV}, check=True)
    return p.stdout.strip()


def make_pr(clone: Path) -> list[str]:
    """A pull-request branch touching 10 applications: 9 edited in 3 commits, 1 new. Returns their paths."""
    from jinqiu.check.ids import check_digit

    git(clone, "checkout", "-q", "-b", "pr")
    apps = sorted(git(clone, "ls-files", "data/applications").splitlines())
    step = len(apps) // 10
    picked = [apps[i * step + step // 2] for i in range(10)]
    touched = []
    for n, rel in enumerate(picked[:9]):
        path = clone / rel
        text = path.read_text(encoding="utf-8")
        text, count = re.subn(r"(?m)^  major: (.*)$", r"  major: \1（调整）", text, count=1)
        if not count:
            text = re.sub(r"(?m)^  school: (.*)$", r"  school: \1（分校）", text, count=1)
        path.write_text(text, encoding="utf-8")
        touched.append(rel)
        if n % 3 == 2:
            git(clone, "commit", "-q", "-am", f"Edit applications ({n // 3 + 1})")
    src = clone / picked[9]
    text = src.read_text(encoding="utf-8")
    old_id = re.search(r'(?m)^id: "?([^"\n]+)"?$', text).group(1)
    new_id = old_id.rsplit("-", 1)[0] + "-999"
    text = text.replace(old_id, new_id).split("\napprovals:")[0] + "\napprovals: []\n"
    text = re.sub(r"(?m)^  paid_(on|by|signature):.*(\n    .*)*\n", "", text)
    student = re.search(r'(?m)^student:\n(?:  .*\n)*?  id_number: "([^"]+)"', text)
    if student:
        first = student.group(1)[:6] + "20030101" + "999"
        text = text.replace(student.group(1), first + check_digit(first))
    text = re.sub(r"(?m)^(student:\n(?:  .*\n)*?  name: )(.*)$", r"\1\2新", text, count=1)
    new = src.parent / f"{new_id}.yaml"
    new.write_text(text, encoding="utf-8")
    touched.append(new.relative_to(clone).as_posix())
    git(clone, "add", "-A")
    git(clone, "commit", "-q", "-m", "File a new application")
    return touched


def add_history(clone: Path, commits: int) -> None:
    """Grow main by this many commits (git fast-import), each editing one application: a comment line
    at the top of the file, which changes no value and no approval, so that reading the history has
    something to read. The work tree is then checked out afresh."""
    apps = sorted(git(clone, "ls-files", "data/applications").splitlines())
    head = git(clone, "rev-parse", "HEAD")
    texts: dict[str, bytes] = {}
    stream = bytearray()
    when = 1_310_000_000
    for i in range(commits):
        rel = apps[(i * 7919) % len(apps)]
        old = texts.get(rel) or (clone / rel).read_bytes()
        texts[rel] = f"# 第 {i + 1} 次修改\n".encode() + old
        msg = f"Edit {rel.rsplit('/', 1)[-1]}\n".encode()
        stream += b"commit refs/heads/main\n"
        stream += f"committer bench <bench@jinqiu.invalid> {when + i * 60} +0800\n".encode()
        stream += b"data %d\n%s" % (len(msg), msg)
        if i == 0:
            stream += f"from {head}\n".encode()
        stream += f"M 100644 inline {rel}\n".encode() + b"data %d\n%s\n" % (len(texts[rel]), texts[rel])
    subprocess.run(["git", "-C", str(clone), "fast-import", "--quiet"], input=bytes(stream), check=True)
    git(clone, "checkout", "-q", "-f", "main")
    git(clone, "reset", "-q", "--hard", "main")


def timed(label: str, cmd: list[str], cwd: Path, env: dict) -> tuple[float, str]:
    load = os.getloadavg()[0]
    t = time.perf_counter()
    p = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    took = time.perf_counter() - t
    tail = (p.stderr.strip().splitlines() or [""])[-3:]
    print(f"{label:<34} {took:>7.2f} s   exit {p.returncode}   load {load:.2f}   {' | '.join(tail)}", flush=True)
    return took, p.stdout


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=100000)
    ap.add_argument("--keep", type=Path, default=Path("/tmp/k"), help="where the generated repositories live (DIR/<size>)")
    ap.add_argument("--work", type=Path, help="where to clone (default: a temporary directory, removed after)")
    ap.add_argument("--full", action="store_true", help="time the full run too")
    ap.add_argument("--history", type=int, default=0, metavar="N",
                    help="first grow the clone's main by N commits, each editing one application (git fast-import)")
    args = ap.parse_args(argv)
    source = args.keep / str(args.size)
    if not (source / ".git").is_dir():
        from bench_build import make_tree

        make_tree(source, args.size, True)
    work = Path(tempfile.mkdtemp(prefix="bench-pr-", dir=args.work))
    try:
        clone = work / "pr"
        t = time.perf_counter()
        subprocess.run(["git", "clone", "-q", "--no-local", str(source), str(clone)], check=True)
        print(f"{'git clone --no-local (CI checkout)':<34} {time.perf_counter() - t:>7.2f} s", flush=True)
        if args.history:
            t = time.perf_counter()
            add_history(clone, args.history)
            print(f"{'history: +%d commits' % args.history:<34} {time.perf_counter() - t:>7.2f} s (not timed below)", flush=True)
        base = git(clone, "rev-parse", "HEAD")
        touched = make_pr(clone)
        print(f"pull request: {len(touched)} applications, {git(clone, 'rev-list', '--count', f'{base}..HEAD')} commits; "
              f"{git(clone, 'ls-files', 'data/applications').count(chr(10)) + 1} applications in the tree", flush=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "JINQIU_"))}
        env["XDG_CACHE_HOME"] = str(work / "cache")
        py = [sys.executable, str(BUILD)]
        summary = work / "summary.md"
        total = 0.0
        for label, cmd in (
                ("validate --changed-since", [*py, "validate", "--data", "data", "--format", "github", "--changed-since", base]),
                ("verify --changed-since --summary", [*py, "verify", "--data", "data", "--format", "github", "--changed-since", base,
                                                      "--summary", str(summary)]),
                ("fmt --check --changed-since", [*py, "fmt", "--data", "data", "--check", "--changed-since", base])):
            took, _ = timed(label, cmd, clone, env)
            total += took if not label.startswith("fmt") else 0
        print(f"{'pull-request job (validate+verify)':<34} {total:>7.2f} s   target ≤ 30 s", flush=True)
        if args.full:
            shutil.rmtree(work / "cache", ignore_errors=True)
            full = 0.0
            for label, cmd in (("validate (whole tree)", [*py, "validate", "--data", "data", "--format", "github", "--no-cache"]),
                               ("verify (whole tree)", [*py, "verify", "--data", "data", "--format", "github", "--no-cache"]),
                               ("fmt --check (whole tree)", [*py, "fmt", "--data", "data", "--check"])):
                took, _ = timed(label, cmd, clone, env)
                full += took if not label.startswith("fmt") else 0
            print(f"{'full run (validate+verify)':<34} {full:>7.2f} s   ratio {full / total:.1f}×", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
