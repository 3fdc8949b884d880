"""A build from the records kept between builds (jinqiu.publish.incremental) writes what a build from
scratch writes. A small city (the synthetic sample, signed with its own keys, the root pinned) takes
a sequence of random changes (edit, add, delete, rename, approve with a real signature, registry
change, campaign change, committed or left in the work tree); after each, the incremental build's
site, statistics, HTML forms and problems are compared with a build with no cache at all."""

from __future__ import annotations

import os
import random
import re
import shutil
from pathlib import Path

import pytest

from jinqiu.check import validate
from jinqiu.publish import pipeline as publish
from jinqiu.sample import demo
from jinqiu.trust import approve

from test_build_same import files

SEED = int(os.environ.get("JINQIU_INCREMENTAL_SEED", "2026"))
STEPS = int(os.environ.get("JINQIU_INCREMENTAL_STEPS", "9"))
TODAY = "2011-08-20"


def apps(lab, year=None) -> list[str]:
    found = sorted(p.relative_to(lab.data).as_posix() for p in (lab.data / "applications").rglob("*.yaml"))
    return [rel for rel in found if year is None or rel.split("/")[1] == str(year)]


def maybe_commit(lab, rng, what) -> str:
    if rng.random() < 0.5:
        lab.commit(what, date="2011-08-14")
        return what + "（已提交）"
    return what + "（未提交）"


def edit(lab, rng):
    """Change one field of an application: school, phone, amount or the student's name."""
    rel = rng.choice(apps(lab))
    text = lab.read(rel)
    field = rng.choice(["school", "phone", "amount", "name"])
    if field == "school":
        text = re.sub(r"(?m)^  school: (.*)$", r"  school: \1分校", text, count=1)
    elif field == "phone":
        text = re.sub(r'(?m)^  phone: "?([0-9-]+)"?$', lambda m: f'  phone: "139{rng.randrange(10**8):08d}"', text, count=1)
    elif field == "amount":
        text = re.sub(r"(?m)^  amount: ([0-9.]+)$", lambda m: f"  amount: {rng.choice([1000, 2000, 3000, 4000, 5000])}", text, count=1)
    else:
        text = re.sub(r"(?m)^(student:\n(?:  .*\n)*?  name: )(\S+)$", lambda m: m.group(1) + m.group(2)[0] + "小" + m.group(2)[-1],
                      text, count=1)
    lab.write(rel, text)
    return maybe_commit(lab, rng, f"edit {field} of {rel}")


def add(lab, rng):
    """A new application: a copy of one under a new number, the same child (a duplicate) or another."""
    rel = rng.choice(apps(lab, 2011))
    year, unit = rel.split("/")[1:3]
    taken = {Path(r).stem for r in apps(lab)}
    seq = next(n for n in range(900, 999) if f"{year}-{unit}-{n:03d}" not in taken)
    new_id = f"{year}-{unit}-{seq:03d}"
    text = lab.read(rel).split("\napprovals:")[0] + "\n"
    text = re.sub(r"(?m)^id: .*$", f'id: "{new_id}"', text)
    text = re.sub(r"(?m)^  paid_(on|by): .*\n", "", text)
    text = re.sub(r"(?m)^  paid_signature: \|\n(    .*\n)*", "", text)
    same = rng.random() < 0.4
    if not same:
        text = re.sub(r'(?m)^(student:\n(?:  .*\n)*?  id_number: )"?(\w+)"?$', lambda m: m.group(1) + '"' + demo.id_number(seq, "19930101") + '"',
                      text, count=1)
        text = re.sub(r"(?m)^(student:\n(?:  .*\n)*?  name: )(\S+)$", lambda m: m.group(1) + m.group(2)[0] + "新" + m.group(2)[-1], text, count=1)
    lab.write(f"applications/{year}/{unit}/{new_id}.yaml", text)
    return maybe_commit(lab, rng, f"add {new_id} as a copy of {rel}{' (the same child)' if same else ''}")


def delete(lab, rng):
    rel = rng.choice(apps(lab))
    (lab.data / rel).unlink()
    return maybe_commit(lab, rng, f"delete {rel}")


def rename(lab, rng):
    """Move an application to a new number (its id follows, or, now and then, does not)."""
    rel = rng.choice(apps(lab))
    year, unit, name = rel.split("/")[1:4]
    taken = {Path(r).stem for r in apps(lab)}
    seq = next(n for n in range(800, 899) if f"{year}-{unit}-{n:03d}" not in taken)
    new_id = f"{year}-{unit}-{seq:03d}"
    text = lab.read(rel)
    follows = rng.random() < 0.7
    if follows:
        text = re.sub(r"(?m)^id: .*$", f'id: "{new_id}"', text)
    (lab.data / rel).unlink()
    lab.write(f"applications/{year}/{unit}/{new_id}.yaml", text)
    return maybe_commit(lab, rng, f"rename {rel} to {new_id}{'' if follows else ' (id kept)'}")


def approve_one(lab, rng):
    """Approve one of this year's applications at its next level, signed by the right reviewer."""
    dataset = validate.load(lab.data, "data")
    units = dataset.units
    todo = []
    for r in dataset.applications:
        if r.data.get("year") != 2011:
            continue
        level = len(r.data.get("approvals") or []) + 1
        unit = r.data["unit"]
        reviewer = {1: f"r-{unit}", 2: f"r-{units.get(unit, {}).get('parent')}", 3: "r-dl-01"}.get(level)
        if reviewer and (lab.keys / reviewer).is_file():
            todo.append((r, reviewer))
    if not todo:
        return "approve: nothing to approve"
    r, reviewer = rng.choice(sorted(todo, key=lambda t: t[0].rel))
    signing = approve.Signing("ssh", str(lab.keys / reviewer), lab.fingerprint(reviewer))
    try:
        approve.approve(lab.repo, lab.data, [r], opinion="同意", today=demo._date("2011-08-16"), signing=signing,
                        dataset=dataset, env=lab.signing_env(reviewer, "2011-08-16"))
    except approve.ApproveError as exc:
        return f"approve {r.rel} by {reviewer}: refused ({str(exc)[:60]})"
    return f"approve {r.rel} by {reviewer}"


def registry_change(lab, rng):
    """The administrator renames a reviewer (trust data: a signed commit)."""
    text = lab.read("reviewers.yaml")
    names = re.findall(r"(?m)^  name: (\S+)$", text)
    old = rng.choice(names)
    lab.write("reviewers.yaml", text.replace(f"  name: {old}\n", f"  name: {old[0]}立{old[-1]}\n", 1))
    lab.commit("rename a reviewer", key="r-dl-01", date="2011-08-15")
    return f"registry: rename reviewer {old}"


def campaign_change(lab, rng):
    """The administrator moves this year's materials deadline (trust data: a signed commit)."""
    text = lab.read("campaigns/2011.yaml")
    day = rng.choice(["2011-08-09", "2011-08-11", "2011-08-12"])
    lab.write("campaigns/2011.yaml", re.sub(r'(?m)^materials_due: .*$', f'materials_due: "{day}"', text))
    lab.commit("move the deadline", key="r-dl-01", date="2011-08-15")
    return f"campaign: materials_due {day}"


def restore(lab, rng):
    """Throw away what the work tree holds beyond HEAD, or go back a commit or two (history rewritten)."""
    if rng.random() < 0.5 and int(lab.git("rev-list", "--count", "HEAD")) > 3:
        back = rng.choice([1, 2])
        lab.git("reset", "-q", "--hard", f"HEAD~{back}")
        lab.git("clean", "-fdq")
        return f"reset --hard HEAD~{back}"
    lab.git("checkout", "--", ".")
    lab.git("clean", "-fdq")
    return "restore the work tree to HEAD"


def tamper(lab, rng):
    """Someone edits the kept records in the git directory (a status made "paid"): the HMAC fails, the
    build reads everything."""
    shards = sorted((lab.repo / ".git" / "jinqiu-cache").glob("records-*-*.json"))
    if not shards:
        return "tamper: nothing kept"
    path = rng.choice([p for p in shards if b'\\"approved\\"' in p.read_bytes()] or shards)
    raw = path.read_bytes()
    forged = raw.replace(b'\\"approved\\"', b'\\"paid\\"', 1)
    path.write_bytes(forged if forged != raw else raw.replace(b'"', b"'", 1))
    return f"tamper with {path.name}"


CHANGES = [edit, edit, edit, add, delete, rename, approve_one, approve_one, registry_change, campaign_change, restore, restore,
           tamper]


def build(lab, out: Path, cache: bool):
    try:
        return publish.build(publish.Options(data=lab.data, out=out, today=TODAY, cache=cache, pdf=False))
    except publish.BuildError as exc:
        return exc


def outputs(result, out: Path):
    if isinstance(result, publish.BuildError):
        return {"error": str(result)}
    got = {"problems": [p.text() for p in result.problems], "findings": result.findings, "ok": result.ok,
           "statuses": sorted((k, v.row()) for k, v in result.statuses.items()),
           "verified": (getattr(result.statuses, "verified", None), getattr(result.statuses, "trust", None))}
    if result.site_dir is not None and result.ok:
        got["site"] = files(out / "site")
        got["forms"] = {k: v for k, v in files(out / "private" / "forms").items() if k.endswith(".html")}
    return got


def test_random_changes_build_as_from_scratch(tmp_path):
    lab = demo.Lab(tmp_path / "city")
    demo.sample_city(lab, 5)
    rng = random.Random(SEED)
    kinds = []
    log = []
    for step in range(STEPS + 1):
        what = "the first build" if step == 0 else rng.choice(CHANGES)(lab, rng)
        log.append(what)
        inc_out, ref_out = tmp_path / "inc", tmp_path / "ref"
        shutil.rmtree(ref_out, ignore_errors=True)
        inc = build(lab, inc_out, cache=True)
        ref = build(lab, ref_out, cache=False)
        if not isinstance(inc, publish.BuildError):
            kinds.append(inc.records[0] if inc.records else "skipped")
            if inc.records and inc.records[0] == "incremental" and not what.startswith(("registry", "campaign")):
                assert inc.records[1] <= 12, (what, inc.records)  # the scope of one change, not every file
        print(f"step {step}: {what}: {kinds[-1] if kinds and not isinstance(inc, publish.BuildError) else inc}")
        got, want = outputs(inc, inc_out), outputs(ref, ref_out)
        for part in want:
            assert got.get(part) == want[part], f"step {step} ({what}): {part} differs; the changes: {log}"
        assert got.keys() == want.keys()
    assert any(k == "incremental" for k in kinds), kinds  # the kept records were used, not only rebuilt


def test_a_change_puts_together_only_the_bundles_that_hold_it(tmp_path):
    """One application edited: its union's HTML is written again, and only the bundles holding its
    page (its union's, its district's, the city's) are put together again; every file reads as a
    build with no cache writes it (the PDFs by their text)."""
    from test_build_same import text

    repo = tmp_path / "repo"
    shutil.copytree(Path(__file__).parent / "site_data" / "data", repo / "data")
    lab = demo.Lab.__new__(demo.Lab)
    lab.root, lab.repo, lab.data = tmp_path, repo, repo / "data"
    lab.git("init", "-q", "-b", "main")
    lab.commit("the data", date="2011-08-12")
    forms_cache = tmp_path / "print-cache"

    def build_pdf(out, cache):
        result = publish.build(publish.Options(data=lab.data, out=out, today=TODAY, cache=cache, forms_cache=forms_cache))
        assert result.ok, (result.problems[:3], result.findings[:3])
        return result

    first = build_pdf(tmp_path / "inc", True)
    assert len(first.printed.assembled) == 8
    forms_dir = tmp_path / "inc" / "private" / "forms"
    untouched = {p.name: p.stat().st_mtime_ns for p in forms_dir.iterdir()}
    rel = "applications/2011/dl-xg-0001/2011-dl-xg-0001-006.yaml"
    lab.write(rel, re.sub(r"(?m)^  school: (.*)$", r"  school: \1分校", lab.read(rel), count=1))
    lab.commit("edit", date="2011-08-14")
    again = build_pdf(tmp_path / "inc", True)
    assert again.records[0] == "incremental" and again.records[1] < 5
    assert sorted(again.printed.assembled) == ["dl", "dl-xg", "dl-xg-0001"]
    assert "dl" in again.printed.patched  # the city's bundle: its one changed page replaced in the last one
    assert again.printed.printed >= 1
    now = {p.name: p.stat().st_mtime_ns for p in forms_dir.iterdir()}
    rewritten = sorted(name for name in now if now[name] != untouched.get(name))
    # the union's own HTML (its district's and the city's show the same counts as before), and the three bundles
    assert rewritten == ["dl-xg-0001.html", "dl-xg-0001.pdf", "dl-xg.pdf", "dl.pdf"], rewritten
    ref = build_pdf(tmp_path / "ref", False)
    assert files(tmp_path / "inc" / "site") == files(tmp_path / "ref" / "site")
    for pdf in sorted(p.name for p in (tmp_path / "ref" / "private" / "forms").iterdir()):
        mine, theirs = forms_dir / pdf, tmp_path / "ref" / "private" / "forms" / pdf
        if pdf.endswith(".pdf"):
            assert text(mine) == text(theirs), pdf
        else:
            assert mine.read_bytes() == theirs.read_bytes(), pdf
    assert ref.printed is not None


def test_a_build_from_scratch_in_workers_writes_what_one_process_writes(tmp_path, monkeypatch):
    """Every file read, checked and proved in forked workers (a few files a task), the forms written
    by forked workers from the spool: what a build with no cache writes."""
    from jinqiu.check import cache
    from jinqiu.publish import forms, incremental

    lab = demo.Lab(tmp_path / "city")
    demo.sample_city(lab, 5)
    # an approval carrying another content's digest (stale): proved once every digest is known
    rel = next(r for r in apps(lab, 2011) if "\n- level: 1" in lab.read(r))
    text = lab.read(rel)
    lab.write(rel, re.sub(r"(?m)^  school: (.*)$", r"  school: \1分校", text, count=1))
    lab.commit("an edit after approval", date="2011-08-14")
    monkeypatch.setattr(cache, "SERIAL_BELOW", 0)
    monkeypatch.setattr(incremental, "CHUNK", 7)
    monkeypatch.setattr(forms, "PARALLEL_FORMS", 1)
    inc = build(lab, tmp_path / "inc", cache=True)
    assert inc.records[0].startswith("cold")
    ref = build(lab, tmp_path / "ref", cache=False)
    got, want = outputs(inc, tmp_path / "inc"), outputs(ref, tmp_path / "ref")
    assert got == want
    assert any(p.code == "approval-stale" for p in ref.problems)


def test_the_scan_with_needles_kept_finds_what_a_scan_from_scratch_finds(tmp_path, monkeypatch):
    """After a change that leaves every personal value as it was, the scan uses the needles the last
    build made: a name leaked into a page is found all the same."""
    from jinqiu.publish import privacy, site as site_module

    lab = demo.Lab(tmp_path / "city")
    demo.sample_city(lab, 4)
    assert build(lab, tmp_path / "out", cache=True).ok
    rel = apps(lab, 2011)[0]
    name = re.search(r"(?m)^  name: (\S+)$", lab.read(rel)).group(1)  # the worker's name
    lab.write(rel, re.sub(r"(?m)^  school: (.*)$", r"  school: \1分校", lab.read(rel), count=1))
    lab.commit("an edit", date="2011-08-14")
    real = site_module.write_pages

    def leaky(view, docs, **kw):
        written = real(view, docs, **kw)
        (docs / "leak.md").write_text(f"# 泄露\n\n{name[0]} {name[1:]}\n", encoding="utf-8")
        return written

    def not_again(self, values):
        raise AssertionError("the needles are built again, though the values are the same")

    monkeypatch.setattr(site_module, "write_pages", leaky)
    monkeypatch.setattr(privacy.Needles, "__init__", not_again)
    again = build(lab, tmp_path / "out", cache=True)
    assert again.records[0] == "incremental"
    found = {Path(f.path).relative_to(tmp_path / "out" / "site").as_posix() for f in again.findings}
    assert found == {"leak.html", "search/search_index.json"}, again.findings  # the page, and the search index holding its text
