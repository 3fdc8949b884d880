"""The published TEST keys: ed25519 key pairs that anyone can recompute from a seed.

The sample data (jinqiu.sample.generate, seed 2011) and the tests' site data (tests/site_data, seed 7) sign
their approvals with them. They prove nothing about real people: verify accepts them only under a
root of trust made of such keys (the sample's own TEST root) and refuses them anywhere else.
"""

from __future__ import annotations

import base64
import hashlib
import struct
from functools import lru_cache

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

PUBLISHED_SEEDS = (2011, 7)  # jinqiu.sample.generate's default seed; tests/site_data/sign.py's seed
COMMENT_PREFIX = "jinqiu-TEST-KEY"
KEYS_PER_REVIEWER = 3  # a reviewer's 1st, 2nd and 3rd key (the sample replaces revoked keys)


def secret(seed: int, reviewer_id: str, n: int = 1) -> bytes:
    """The 32-byte private seed of a reviewer's n-th TEST key."""
    return hashlib.sha256(f"jinqiu TEST KEY {seed} {reviewer_id} {n}".encode()).digest()


def ed25519_public(private_seed: bytes) -> bytes:
    """The 32-byte ed25519 public key of a 32-byte private seed."""
    return Ed25519PrivateKey.from_private_bytes(private_seed).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_blob(public: bytes) -> bytes:
    """The OpenSSH public key blob of an ed25519 public key."""
    return struct.pack(">I", 11) + b"ssh-ed25519" + struct.pack(">I", len(public)) + public


def fingerprint(blob: bytes) -> str:
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


@lru_cache(maxsize=4096)
def _public(seed: int, reviewer_id: str, n: int) -> bytes:
    return key_blob(ed25519_public(secret(seed, reviewer_id, n)))


def derivable(reviewer_ids) -> dict[str, str]:
    """{fingerprint: "reviewer id, seed"} of every TEST key the published seeds give these reviewer ids."""
    out = {}
    for rid in sorted(set(reviewer_ids)):
        for seed in PUBLISHED_SEEDS:
            for n in range(1, KEYS_PER_REVIEWER + 1):
                out[fingerprint(_public(seed, str(rid), n))] = f"{rid}（种子 {seed}）"
    return out


def is_test_comment(public_key_line: str) -> bool:
    parts = str(public_key_line).split(None, 2)
    return len(parts) == 3 and parts[2].startswith(COMMENT_PREFIX)
