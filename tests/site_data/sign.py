#!/usr/bin/env python3
"""Give every approval in tests/site_data a digest and a detached signature by its reviewer's TEST
key (derived from a fixed seed, as jinqiu.sample.generate does), so that verify proves them.

Run it after editing any application here: `python tests/site_data/sign.py`.
"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from jinqiu.check import validate  # noqa: E402
from jinqiu.records import layout, yamlwrite
from jinqiu.sample import generate as sample
from jinqiu.trust.registry import ROOT_FILE  # noqa: E402

SEED = 7
DATA = HERE / "data"


def main() -> int:
    dataset = validate.load(DATA)
    units = dataset.units
    registry = dataset.of("reviewers")[0].data
    by_unit = {r["unit"]: r for r in registry["reviewers"]}
    level_of = {"city": 3, "enterprise": 1, "street": 1}
    for uid, unit in units.items():  # one reviewer for every union, at its level
        if uid not in by_unit:
            rid = f"r-{uid}-01"
            by_unit[uid] = {"id": rid, "name": f"测试审核人{len(by_unit) + 1}", "unit": uid,
                            "level": level_of.get(unit["kind"], 2), "keys": []}
            registry["reviewers"].append(by_unit[uid])
    secrets = {}
    for r in registry["reviewers"]:
        secret = sample.test_key_secret(SEED, r["id"])
        line, fingerprint = sample.ssh_public_line(sample.ed25519_public(secret), f"jinqiu-TEST-KEY-{r['id']}")
        r["keys"] = [{"type": "ssh", "public_key": line, "fingerprint": fingerprint, "valid_from": "2010-01-01"}]
        secrets[r["id"]] = secret
    (DATA / "reviewers.yaml").write_text(
        "# 测试数据：公钥为测试密钥（TEST KEYS），私钥可由 tests/site_data/sign.py 重新算出，不得用于真实审批。\n"
        + yamlwrite.dump(registry, "reviewers"), encoding="utf-8")
    city = [r for r in registry["reviewers"] if r.get("admin")] or [r for r in registry["reviewers"] if r["level"] == 3]
    (DATA / ROOT_FILE).write_text(sample.root_file(city, SEED, admins_only=False).replace("python -m jinqiu.sample", "python tests/site_data/sign.py"),
                                                    encoding="utf-8")
    for record in dataset.applications:
        rec = record.data
        chain = [rec["unit"], units[rec["unit"]]["parent"], "dl"]
        for entry in rec.get("approvals", []):
            entry["reviewer"] = by_unit[chain[entry["level"] - 1]]["id"]
        if rec.get("aid", {}).get("paid_on"):  # the funding union's reviewer records the payout
            rec["aid"]["paid_by"] = by_unit[rec["aid"]["funding_unit"]]["id"]
        sample._sign_approvals(rec, secrets)
        (DATA / record.rel).write_text(yamlwrite.dump(rec, "application"), encoding="utf-8")
    print(f"signed the approvals of {len(dataset.applications)} applications; {len(registry['reviewers'])} reviewers")
    return 0


if __name__ == "__main__":
    sys.exit(main())
