"""The reviewer registry (data/reviewers.yaml) as a trust store: which key belongs to whom, when it
is valid, who may approve what, and the chain of signed changes back to the root of trust.

The root of trust (jinqiu.trust.anchor) is a list of key fingerprints the city pins outside the data a pull
request can change: `--root-key`, the environment variable JINQIU_ROOT_KEY (a forge variable the
workflows pass), or the git config value `jinqiu.rootKey`. ROOT_FILE beside reviewers.yaml states it
in the data; on its own it pins only the sample's TEST root (jinqiu.trust.testkeys).
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import tempfile
from dataclasses import dataclass, field

from . import sshsig, testkeys

ROOT_FILE = "root-of-trust.txt"
CHINA = dt.timezone(dt.timedelta(hours=8))
LEVEL_UNIT_KINDS = {1: ("enterprise", "street"), 2: ("district", "county_city", "county", "industry"), 3: ("city",)}


def day_of(timestamp: int) -> str:
    """The calendar date (Beijing time) of a Unix timestamp, as YYYY-MM-DD."""
    return dt.datetime.fromtimestamp(timestamp, CHINA).date().isoformat()


@dataclass(frozen=True)
class Key:
    reviewer: str
    index: int  # position in the reviewer's keys list
    type: str
    fingerprint: str
    valid_from: str
    valid_until: str | None
    revoked_on: str | None
    public_key: str

    def invalid_on(self, day: str) -> str | None:
        """Why the key is not valid on that day, or None when it is."""
        if self.revoked_on and day >= self.revoked_on:
            return f"已于 {self.revoked_on} 吊销"
        if day < self.valid_from:
            return f"自 {self.valid_from} 起才生效"
        if self.valid_until and day > self.valid_until:
            return f"已于 {self.valid_until} 失效"
        return None


@dataclass
class Registry:
    reviewers: dict[str, dict]
    keys: dict[str, Key] = field(default_factory=dict)  # fingerprint -> key
    problems: list[tuple[str, int, str]] = field(default_factory=list)  # (reviewer id, key index, message)

    def by_login(self, forge: str, login: str) -> str | None:
        for rid, r in self.reviewers.items():
            logins = r.get("forge_logins") or {}
            if logins.get(forge) == login or (forge in ("gitea", "forgejo") and logins.get("gitea" if forge == "forgejo" else "forgejo") == login):
                return rid
        return None

    def is_admin(self, rid: str | None) -> bool:
        r = self.reviewers.get(rid or "")
        return bool(r and r.get("admin") is True and r.get("level") == 3)

    def gpg_keys(self) -> list[Key]:
        return [k for k in self.keys.values() if k.type == "gpg"]


def ssh_fingerprint(public_key: str) -> str:
    """The fingerprint of an OpenSSH public key line; SignatureError when it is not a usable key."""
    _, blob = sshsig.parse_public_key(public_key)
    sshsig.public_key(blob)  # a key cryptography cannot take (31-byte Ed25519...) is refused here
    return sshsig.fingerprint(blob)


def build(reviewers: dict[str, dict], refuse_test_keys: bool = False) -> Registry:
    """Index every registered key by fingerprint (SSH keys: computed from the key itself).
    refuse_test_keys: leave out (with a problem) every key derivable from the published TEST seeds."""
    reg = Registry(reviewers)
    test = testkeys.derivable(reviewers) if refuse_test_keys else {}
    for rid, r in reviewers.items():
        for i, k in enumerate(r.get("keys") or []):
            if not isinstance(k, dict):
                continue
            kind = k.get("type")
            try:
                if kind == "ssh":
                    fpr = ssh_fingerprint(str(k.get("public_key", "")))
                    if k.get("fingerprint") and k["fingerprint"] != fpr:
                        reg.problems.append((rid, i, f"登记的指纹 {k['fingerprint']} 与公钥实际的指纹 {fpr} 不符"))
                else:
                    fpr = str(k.get("fingerprint") or "").replace(" ", "").upper()
                    if len(fpr) != 40:
                        reg.problems.append((rid, i, "GPG 公钥须同时登记 40 位十六进制的指纹"))
                        continue
            except sshsig.SignatureError as exc:
                reg.problems.append((rid, i, f"公钥无法读取：{exc}"))
                continue
            if refuse_test_keys and (fpr in test or testkeys.is_test_comment(k.get("public_key", ""))):
                whose = test.get(fpr, "示例数据")
                reg.problems.append((rid, i, f"审核人 {rid} 的这把公钥是公开的测试密钥（TEST KEY，可由 {whose} 推算出私钥），"
                                             "任何人都能用它签名；只有示例数据自己的测试信任根下才接受，这里不予承认"))
                continue
            if fpr in reg.keys and reg.keys[fpr].reviewer != rid:
                reg.problems.append((rid, i, f"这把公钥已登记给审核人 {reg.keys[fpr].reviewer}；一把钥匙只能属于一个人"))
                continue
            reg.keys[fpr] = Key(rid, i, kind, fpr, str(k.get("valid_from", "9999-12-31")), k.get("valid_until"),
                                k.get("revoked_on"), str(k.get("public_key", "")))
    return reg


def reviewer_unit_for(level: int, app_unit: str, units: dict[str, dict]) -> str | None:
    """The union that approves at a level for an application filed by app_unit: level 1 the filing
    grassroots union, level 2 its parent (district, county or industry union), level 3 the city."""
    if level == 1:
        return app_unit
    parent = (units.get(app_unit) or {}).get("parent")
    if level == 2:
        return parent
    for uid, u in units.items():
        if u.get("kind") == "city":
            return uid
    return None


def funding_level(app_unit: str, funding_unit: str | None, units: dict[str, dict]) -> int:
    """How far the chain goes: 1 when the grassroots union pays, 2 its parent, 3 the city."""
    for level in (1, 2, 3):
        if funding_unit and reviewer_unit_for(level, app_unit, units) == funding_unit:
            return level
    return 3


class GpgVerifier:
    """Checks OpenPGP commit signatures with gpg against a throwaway keyring holding only the
    registered GPG keys; VALIDSIG gives the primary key's fingerprint."""

    def __init__(self, keys: list[Key]):
        self.keys = keys
        self._home = None

    def _ensure(self):
        if self._home is None:
            self._home = tempfile.TemporaryDirectory(prefix="jinqiu-gpg-")
            for k in self.keys:
                subprocess.run(["gpg", "--homedir", self._home.name, "--batch", "--quiet", "--import"],
                               input=k.public_key.encode(), capture_output=True)
        return self._home.name

    def verify(self, signature: bytes, payload: bytes) -> str:
        """The primary fingerprint of a good signature; raise SignatureError otherwise."""
        home = self._ensure()
        with tempfile.NamedTemporaryFile(dir=home, delete=False) as s:
            s.write(signature)
        try:
            proc = subprocess.run(["gpg", "--homedir", home, "--batch", "--status-fd", "1", "--verify", s.name, "-"],
                                  input=payload, capture_output=True)
        finally:
            os.unlink(s.name)
        for line in proc.stdout.decode(errors="replace").splitlines():
            parts = line.split()
            if len(parts) >= 3 and parts[1] == "VALIDSIG":
                return parts[-1].upper()
        text = proc.stdout.decode(errors="replace")
        if "NO_PUBKEY" in text:
            raise sshsig.SignatureError("NO_PUBKEY")
        raise sshsig.SignatureError("签名与内容不符（提交或内容被改动过，或签名伪造）")

    def close(self):
        if self._home is not None:
            self._home.cleanup()
            self._home = None
