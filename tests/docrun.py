"""Run a document's commands as a reader would: every ```sh block in order, each in bash with
`set -euo pipefail`, the working directory carried from one block to the next; a ```yaml block with
title="NAME" is a file the reader writes (into the directory the commands are in at that point).
Other blocks (nginx, plain yaml) are shown, not run. Used by tests/test_city_doc.py and
bench/bench_city.py (which times each block)."""

from __future__ import annotations

import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

FENCE = re.compile(r"^```([A-Za-z]*)(.*?)\n(.*?)^```\s*$", re.S | re.M)


@dataclass
class Block:
    kind: str  # "sh" or "file"
    text: str
    line: int  # where the block starts in the document
    name: str = ""  # a file block's file name
    heading: str = ""  # the section it is in


def blocks(doc: str) -> list[Block]:
    out = []
    for m in FENCE.finditer(doc):
        lang, info, body = m.group(1), m.group(2), m.group(3)
        line = doc.count("\n", 0, m.start()) + 1
        heading = next((h for h in reversed(re.findall(r"(?m)^#+ (.*)$", doc[:m.start()]))), "")
        if lang == "sh":
            out.append(Block("sh", body, line, heading=heading))
        else:
            title = re.search(r'title="([^"]+)"', info)
            if title:
                out.append(Block("file", body, line, title.group(1), heading))
    return out


@dataclass
class Ran:
    block: Block
    returncode: int
    stdout: str
    stderr: str
    seconds: float


def run(doc: str, start: Path, env: dict, before=None) -> list[Ran]:
    """Run every block of the document from directory start; stop at the first that fails.
    before(block) is called ahead of each block (a test plays the other people there)."""
    state = start / ".docrun-cwd"
    state.write_text(str(start))
    done = []
    for b in blocks(doc):
        if before:
            before(b)
        t0 = time.perf_counter()
        if b.kind == "file":
            target = Path(state.read_text().strip()) / b.name
            target.write_text(b.text, encoding="utf-8")
            done.append(Ran(b, 0, "", "", time.perf_counter() - t0))
            continue
        script = f'set -euo pipefail\ncd "$(cat {state})"\n{b.text}\npwd > {state}\n'
        p = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True)
        done.append(Ran(b, p.returncode, p.stdout, p.stderr, time.perf_counter() - t0))
        if p.returncode:
            break
    return done
