"""The sample, sealed (issue 21): the same records with their personal values sealed to TEST keys made
on the spot, a key repository of their own beside the demo repository, and every approval replayed
(signing the key-free digest v2).

`sealed_sample(data_dir, out_dir)` makes, under out_dir:
- `repo/` the demo repository (demo.build_sample) whose data holds sealing.yaml and sealed records;
- `keyring/` the key repository (git): each union-year's keyring signed by the TEST administrator;
- `identities/` the TEST age identities: `build`, `escrow` and one per reviewer, and the build's TEST
  SSH signing key `build_ssh` for the duplicate tags (TEST KEYS: anyone holding this folder reads
  everything; never for real data).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from ..check import validate
from ..edit import fmt
from ..records import dataset as ds
from ..records import layout, sealed, yamlwrite
from ..trust import keyring
from . import demo

TEST_NOTE = "# TEST KEY made by jinqiu sample - not for real use\n"


def _identity(folder: Path, who: str) -> str:
    """Make (once) a TEST age identity; return its public recipient."""
    path = folder / who
    if not path.exists():
        secret, public = keyring.new_group()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(f"{TEST_NOTE}# public key: {public}\n{secret}\n")
    return next(line.split(": ", 1)[1] for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("# public key: "))


def seal_tree(tree: Path, ids_dir: Path, keys_dir: Path, signer, since: int | None = None) -> sealed.Sealing:
    """Seal a clear data tree in place with TEST identities made in ids_dir (build, escrow, one per
    reviewer), keyrings written into keys_dir and signed by signer; returns the set-up written."""
    src = validate.load(tree, str(tree))
    years = sorted(src.campaigns)
    since = since or years[0]
    reviewers, units = src.reviewers, src.units
    ids_dir.mkdir(parents=True, exist_ok=True)
    build, escrow = _identity(ids_dir, "build"), _identity(ids_dir, "escrow")
    members = [{"id": rid, "unit": r.get("unit"), "recipient": _identity(ids_dir, rid), "valid_from": "2000-01-01"}
               for rid, r in sorted(reviewers.items())]
    build_ssh = ids_dir / "build_ssh"  # the build's TEST signing key: only tags it signs count (check.dupetags)
    if not build_ssh.exists():
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "TEST build key - jinqiu sample", "-f", str(build_ssh)],
                       check=True, capture_output=True)
    build_signer = Path(f"{build_ssh}.pub").read_text(encoding="utf-8").strip()
    cfg = sealed.Sealing(since, build, escrow, members, {}, [], 5, build_signer)
    grassroots = sorted(u for u, v in units.items() if v.get("kind") in ("enterprise", "street"))
    secrets = {}
    for year in (y for y in years if y >= since):
        cfg.groups[str(year)] = {}
        for unit in grassroots:
            secret, public = keyring.new_group()
            secrets[(year, unit)] = secret
            cfg.groups[str(year)][unit] = public
    text = yamlwrite.dump({"since": since, "retain_years": 5, "build": build, "escrow": escrow, "build_signer": build_signer,
                           "members": members, "groups": cfg.groups}, "sealing")
    ds.write_text(tree, "sealing.yaml", "# 示例数据的加密设置：公钥属于临时生成的测试密钥（TEST KEYS），不得用于真实数据。\n" + text)
    registry = next((r for r in src.records if r.kind == "reviewers" and isinstance(r.data, dict)), None)
    if registry is not None:  # the reviewers' own and family ID numbers: sealed to the build and the escrow
        kept = dict(registry.data, reviewers=[sealed.seal_reviewer(r, [build, escrow]) if isinstance(r, dict) else r
                                             for r in registry.data.get("reviewers") or []])
        ds.write_text(tree, registry.rel, fmt.render(kept, "reviewers", ds.read_bytes(tree, registry.rel)))
    for record in src.records:
        if record.data is None or record.kind not in sealed.SEALABLE_KINDS or not cfg.year_sealed(record.data.get("year")):
            continue
        recipient = cfg.recipient(record.data["year"], record.data["unit"])
        stored = sealed.seal(record.data, sealed.personal_pointers(layout.schema(record.kind)), recipient)
        ds.write_text(tree, record.rel, fmt.render(stored, record.kind, ds.read_bytes(tree, record.rel)))
    for (year, unit), secret in secrets.items():
        keyring.write_keyring(keys_dir, year, unit, 1, secret, [r for _, r in keyring.chain(cfg, unit, units, f"{year}-01-01")], signer)
    for year in cfg.groups:
        keyring.write_tag_key(keys_dir, year, cfg, signer)
    return cfg


def sealed_sample(data_dir: Path, out_dir: Path, since: int | None = None, limit: int | None = None, log=None) -> dict:
    """Seal a copy of a clear data tree with TEST keys and replay it as a signed demo repository;
    returns {"lab", "keys", "identities", "since"}."""
    out_dir = Path(out_dir)
    tree = out_dir / "sealed-data"
    ids_dir = out_dir / "identities"
    keys_dir = out_dir / "keyring"
    keys_dir.mkdir(parents=True, exist_ok=True)
    shutil.copytree(data_dir, tree)
    reviewers = validate.load(tree, str(tree)).reviewers
    admin = next((rid for rid, r in reviewers.items() if r.get("admin") is True and r.get("level") == 3), None)
    # the administrator's TEST ssh key, made before the replay registers it, signs the keyrings
    lab = demo.Lab(out_dir)
    lab.key(admin)
    cfg = seal_tree(tree, ids_dir, keys_dir, keyring.ssh_signer(lab.keys / admin), since)
    subprocess.run(["git", "init", "-q", "-b", "main", str(keys_dir)], check=True, capture_output=True)
    subprocess.run(["git", "-C", str(keys_dir), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(keys_dir), "-c", "user.name=Jinqiu Demo", "-c", "user.email=demo@jinqiu.invalid",
                    "-c", "commit.gpgsign=false", "commit", "-q", "-m", "示例数据的密钥环（TEST KEYS）"], check=True)
    lab = demo.build_sample(tree, out_dir, limit=limit, log=log)
    shutil.rmtree(tree)
    return {"lab": lab, "keys": keys_dir, "identities": ids_dir, "since": cfg.since}
