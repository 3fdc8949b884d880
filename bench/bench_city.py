"""Time what a city office does, from an empty machine to a published site (issue 17): every command
block of docs/city.md, run as tests/test_city_doc.py runs it (a temporary home, the project and the
forge behind the page's example addresses), each block timed; and, first, the Python packages
installed into an empty virtual environment from the configured package index (what `./setup.sh`
downloads on a machine that has none of them).

    python bench/bench_city.py [--no-install]

Prints seconds per step and the load average (the machine is shared: note it beside the figures).
The Debian packages (packages-debian.txt) are not timed: they are installed on this machine already,
and apt would only say so.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-install", action="store_true", help="skip the fresh virtual environment")
    args = ap.parse_args(argv)
    import docrun
    import test_city_doc as t

    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-city-") as tmp:
        tmp = Path(tmp)
        if not args.no_install:
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "venv", str(tmp / "venv")], check=True)
            subprocess.run([str(tmp / "venv" / "bin" / "pip"), "install", "-q", "--disable-pip-version-check",
                            "-r", str(ROOT / "requirements.txt")], check=True)
            rows.append(("Python packages into an empty venv (pip install -r requirements.txt)", time.perf_counter() - t0))
        env, upstream, forge = t.machine(tmp)
        home = Path(env["HOME"])
        doc = t.DOC.read_text(encoding="utf-8")

        def before(block):  # the same stand-ins as the test: the others' keys, a later version
            if "init-city --template" in block.text:
                (home / "建库" / "公钥").mkdir(parents=True, exist_ok=True)
                for name in t.OTHERS:
                    key = tmp / "their" / name
                    key.parent.mkdir(exist_ok=True)
                    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(key)], check=True)
                    (home / "建库" / "公钥" / f"{name}.pub").write_bytes(key.with_suffix(".pub").read_bytes())
            if "upgrade ~/沈阳金秋" in block.text:
                page = upstream / "site_src" / "apply.md"
                page.write_text(page.read_text(encoding="utf-8") + "\n新版本。\n", encoding="utf-8")
                t.git("commit", "-qam", "later", cwd=upstream)

        for r in docrun.run(doc, home, env, before):
            first = r.block.text.strip().splitlines()[0] if r.block.kind == "sh" else f"(write {r.block.name})"
            rows.append((f"city.md:{r.block.line} {r.block.heading[:18]} | {first[:60]}", r.seconds))
            if r.returncode:
                print(r.stdout, r.stderr, file=sys.stderr)
                break
    width = max(len(name) for name, _ in rows)
    for name, seconds in rows:
        print(f"{name:<{width}}  {seconds:7.2f} s")
    print(f"{'total':<{width}}  {sum(s for _, s in rows):7.2f} s   (load average {os.getloadavg()[0]:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
