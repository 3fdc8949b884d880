"""Every parse of untrusted signature and key bytes ends in a message (SignatureError), never an
exception: real ssh-keygen signatures and keys, mutated thousands of times; the malformed cases of
the trust issue (a 31-byte Ed25519 key, an ECDSA point off its curve) end to end through verify."""

from __future__ import annotations

import base64
import io
import random
import struct
import subprocess

import pytest

from jinqiu.trust import registry, sshsig, status, verify
from jinqiu.trust.signatures import NAMESPACE_ENTRY
from jinqiu.trust.signatures import ssh_check as _ssh_check

from test_verify import APP, entry, find, lab, run  # noqa: F401  (lab is a fixture)

MESSAGE = b"jinqiu fuzz message\n"
KINDS = ("ed25519", "ecdsa", "rsa")


@pytest.fixture(scope="module")
def signed(tmp_path_factory):
    """{kind: (public key line, armored signature of MESSAGE)} made by ssh-keygen."""
    d = tmp_path_factory.mktemp("keys")
    out = {}
    for kind in KINDS:
        key = d / kind
        extra = ["-b", "1024"] if kind == "rsa" else []
        subprocess.run(["ssh-keygen", "-q", "-t", kind, *extra, "-N", "", "-C", "fuzz", "-f", str(key)], check=True)
        msg = d / f"{kind}.msg"
        msg.write_bytes(MESSAGE)
        subprocess.run(["ssh-keygen", "-Y", "sign", "-q", "-n", NAMESPACE_ENTRY, "-f", str(key), str(msg)], check=True,
                       capture_output=True)
        out[kind] = ((d / f"{kind}.pub").read_text().strip(), (d / f"{kind}.msg.sig").read_bytes())
    return out


def _blob(armored: bytes) -> bytes:
    return base64.b64decode(b"".join(armored.strip().splitlines()[1:-1]))


def _armor(blob: bytes) -> bytes:
    b64 = base64.b64encode(blob)
    return sshsig.BEGIN + b"\n" + b"\n".join(b64[i:i + 70] for i in range(0, len(b64), 70)) + b"\n" + sshsig.END + b"\n"


def _mutate(rng: random.Random, data: bytes) -> bytes:
    b = bytearray(data)
    op = rng.randrange(7)
    if op == 0 and b:  # flip bits
        for _ in range(rng.randint(1, 4)):
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
    elif op == 1:  # truncate
        del b[rng.randrange(len(b) + 1):]
    elif op == 2:  # insert bytes
        at = rng.randrange(len(b) + 1)
        b[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
    elif op == 3 and len(b) >= 4:  # a length field made huge, zero or off by one
        at = rng.randrange(len(b) - 3)
        b[at:at + 4] = struct.pack(">I", rng.choice([0, 1, 31, 33, 0xFFFFFFFF, 0x7FFFFFFF, len(b)]))
    elif op == 4 and b:  # delete a run
        at = rng.randrange(len(b))
        del b[at:at + rng.randint(1, 16)]
    elif op == 5 and b:  # overwrite with a random run
        at = rng.randrange(len(b))
        n = rng.randint(1, 32)
        b[at:at + n] = bytes(rng.randrange(256) for _ in range(n))
    else:  # duplicate a slice
        at = rng.randrange(len(b) + 1)
        b[at:at] = b[at:at + rng.randint(1, 64)]
    return bytes(b)


def test_real_signatures_verify(signed):
    for kind, (pub, sig) in signed.items():
        fpr, reason = _ssh_check(sig, MESSAGE, NAMESPACE_ENTRY)
        assert reason is None and fpr == registry.ssh_fingerprint(pub), kind


def test_thousands_of_mutated_signatures_end_in_a_message(signed):
    rng = random.Random(2011)
    seen = 0
    for kind, (_, sig) in signed.items():
        blob = _blob(sig)
        for n in range(2000):
            mutated = _armor(_mutate(rng, blob)) if n % 10 else _mutate(rng, sig)  # the armor too, now and then
            fpr, reason = _ssh_check(mutated, MESSAGE, NAMESPACE_ENTRY)  # raises nothing
            assert (fpr is None) == (reason is not None)
            seen += reason is not None
    assert seen > 5000  # nearly every mutation is refused with a reason


def test_thousands_of_mutated_public_keys_end_in_a_message(signed):
    rng = random.Random(7)
    for kind, (pub, _) in signed.items():
        name, b64, *_ = pub.split()
        blob = base64.b64decode(b64)
        for _ in range(1500):
            line = f"{name} {base64.b64encode(_mutate(rng, blob)).decode()} x"
            try:
                registry.ssh_fingerprint(line)
            except sshsig.SignatureError as exc:
                assert str(exc)
        reg = registry.build({"r": {"keys": [{"type": "ssh", "public_key": f"{name} {b64[:-8]}AAAAAAAA x"}]}})
        assert reg.problems or reg.keys


def _string(b: bytes) -> bytes:
    return struct.pack(">I", len(b)) + b


def _with_key(sig: bytes, key_blob: bytes, sig_type: bytes, raw: bytes) -> bytes:
    """An SSHSIG with its public key and signature replaced (a forger's hand-made signature)."""
    return _armor(b"SSHSIG" + struct.pack(">I", 1) + _string(key_blob) + _string(NAMESPACE_ENTRY.encode()) + _string(b"")
                  + _string(b"sha512") + _string(_string(sig_type) + _string(raw)))


MALFORMED = {
    "31-byte Ed25519 key": lambda: _with_key(b"", _string(b"ssh-ed25519") + _string(b"\x01" * 31), b"ssh-ed25519", b"\0" * 64),
    "ECDSA point off the curve": lambda: _with_key(
        b"", _string(b"ecdsa-sha2-nistp256") + _string(b"nistp256") + _string(b"\x04" + b"\x01" * 64),
        b"ecdsa-sha2-nistp256", _string(b"\x01") + _string(b"\x01")),
    "RSA modulus of one byte": lambda: _with_key(b"", _string(b"ssh-rsa") + _string(b"\x03") + _string(b"\x05"), b"rsa-sha2-512", b"\0"),
    "RSA even exponent": lambda: _with_key(b"", _string(b"ssh-rsa") + _string(b"\x02") + _string(b"\xc5" * 128), b"rsa-sha2-512", b"\0" * 128),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_keys_in_a_signature(case):
    fpr, reason = _ssh_check(MALFORMED[case](), MESSAGE, NAMESPACE_ENTRY)
    assert fpr is None and reason.startswith("签名无效")


def test_malformed_detached_signature_committed_ends_in_a_message(lab):
    """Hole 10: one committed entry with a 31-byte Ed25519 key in its signature: verify names the
    file and line and goes on; `build.py verify` exits 1 without a traceback."""
    from jinqiu.cli import main

    entry(lab, APP, 1, "r-zs1-01")
    text = lab.read(APP)
    sig = MALFORMED["31-byte Ed25519 key"]().decode()
    lab.write(APP, text + "  signature: |\n" + "".join(f"    {line}\n" for line in sig.splitlines()))
    lab.commit("Approve with a hand-made signature", date="2011-07-21")
    statuses, problems = run(lab)
    p = find(problems, "approval-bad-signature")
    assert "签名无效" in p.message and p.line > 1
    assert statuses[APP].state == status.FILED
    out, err = io.StringIO(), io.StringIO()
    code = main(["verify", "--data", str(lab.data), "--no-cache"], out, err)
    assert code == 1 and "Traceback" not in out.getvalue() + err.getvalue()
    assert "签名无效" in out.getvalue() + err.getvalue()
