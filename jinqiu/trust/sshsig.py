"""SSH signatures (the SSHSIG format of `ssh-keygen -Y sign`, which git uses for gpg.format=ssh),
checked in-process with `cryptography`: ed25519, rsa-sha2-256/512 and ecdsa-sha2-nistp256/384/521.

The format: PROTOCOL.sshsig in OpenSSH. A signature is armored base64 of
  "SSHSIG" uint32(1) string(publickey) string(namespace) string(reserved) string(hash) string(sig)
and signs "SSHSIG" string(namespace) string(reserved) string(hash) string(H(message)).
"""

from __future__ import annotations

import base64
import hashlib
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

BEGIN = b"-----BEGIN SSH SIGNATURE-----"
END = b"-----END SSH SIGNATURE-----"
_HASHES = {"sha256": hashlib.sha256, "sha512": hashlib.sha512}
_CURVES = {
    b"nistp256": (ec.SECP256R1(), hashes.SHA256()),
    b"nistp384": (ec.SECP384R1(), hashes.SHA384()),
    b"nistp521": (ec.SECP521R1(), hashes.SHA512()),
}


class SignatureError(Exception):
    """The signature cannot be read or does not verify."""


def _read_string(buf: bytes, pos: int) -> tuple[bytes, int]:
    if pos + 4 > len(buf):
        raise SignatureError("签名数据不完整")
    (n,) = struct.unpack_from(">I", buf, pos)
    pos += 4
    if pos + n > len(buf):
        raise SignatureError("签名数据不完整")
    return buf[pos:pos + n], pos + n


def _string(b: bytes) -> bytes:
    return struct.pack(">I", len(b)) + b


def fingerprint(key_blob: bytes) -> str:
    """OpenSSH's SHA256 fingerprint of a public key blob: SHA256:base64-without-padding."""
    return "SHA256:" + base64.b64encode(hashlib.sha256(key_blob).digest()).decode().rstrip("=")


def parse_public_key(line: str) -> tuple[str, bytes]:
    """(key type, blob) of one OpenSSH public key line `ssh-ed25519 AAAA... comment`."""
    parts = line.split()
    if len(parts) < 2:
        raise SignatureError("公钥格式不对：应为一行 “类型 base64 注释”")
    try:
        blob = base64.b64decode(parts[1], validate=True)
    except ValueError:
        raise SignatureError("公钥不是有效的 base64") from None
    kind, _ = _read_string(blob, 0)
    if kind.decode(errors="replace") != parts[0]:
        raise SignatureError("公钥的类型与内容不一致")
    return parts[0], blob


@dataclass(frozen=True)
class Signature:
    key_blob: bytes
    namespace: str
    hash_alg: str
    sig_type: str
    sig: bytes

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.key_blob)


def parse(armored: bytes | str) -> Signature:
    """Read an armored SSH signature; raise SignatureError when it is not one."""
    if isinstance(armored, str):
        armored = armored.encode()
    text = armored.strip()
    if not (text.startswith(BEGIN) and text.endswith(END)):
        raise SignatureError("不是 SSH 签名")
    body = b"".join(line.strip() for line in text[len(BEGIN):-len(END)].splitlines())
    try:
        blob = base64.b64decode(body, validate=True)
    except ValueError:
        raise SignatureError("签名不是有效的 base64") from None
    if blob[:6] != b"SSHSIG" or len(blob) < 10:
        raise SignatureError("不是 SSH 签名")
    (version,) = struct.unpack_from(">I", blob, 6)
    if version != 1:
        raise SignatureError(f"不支持的 SSH 签名版本 {version}")
    pos = 10
    key, pos = _read_string(blob, pos)
    namespace, pos = _read_string(blob, pos)
    _reserved, pos = _read_string(blob, pos)
    hash_alg, pos = _read_string(blob, pos)
    sigblob, pos = _read_string(blob, pos)
    sig_type, p = _read_string(sigblob, 0)
    sig, _ = _read_string(sigblob, p)
    return Signature(key, namespace.decode(errors="replace"), hash_alg.decode(errors="replace"),
                     sig_type.decode(errors="replace"), sig)


def _signed_data(sig: Signature, message: bytes) -> bytes:
    h = _HASHES.get(sig.hash_alg)
    if h is None:
        raise SignatureError(f"不支持的摘要算法 {sig.hash_alg}")
    return (b"SSHSIG" + _string(sig.namespace.encode()) + _string(b"") + _string(sig.hash_alg.encode())
            + _string(h(message).digest()))


_KEY_CACHE: dict[bytes, object] = {}


def public_key(blob: bytes):
    """(kind, key) of an OpenSSH public key blob; SignatureError when it is not a usable key."""
    return _public_key(blob)


def _public_key(blob: bytes):
    """The key a blob holds; SignatureError for anything cryptography cannot take (a 31-byte
    Ed25519 key, an ECDSA point off its curve, an RSA modulus of no size...)."""
    key = _KEY_CACHE.get(blob)
    if key is not None:
        return key
    try:
        key = _load_public_key(blob)
    except SignatureError:
        raise
    except (ValueError, TypeError, OverflowError, UnsupportedAlgorithm):
        raise SignatureError("公钥无法读取（长度或数值不合格式）") from None
    _KEY_CACHE[blob] = key
    return key


def _load_public_key(blob: bytes):
    kind, pos = _read_string(blob, 0)
    if kind == b"ssh-ed25519":
        raw, _ = _read_string(blob, pos)
        key = ("ed25519", Ed25519PublicKey.from_public_bytes(raw))
    elif kind == b"ssh-rsa":
        e, pos = _read_string(blob, pos)
        n, _ = _read_string(blob, pos)
        key = ("rsa", rsa.RSAPublicNumbers(int.from_bytes(e, "big"), int.from_bytes(n, "big")).public_key())
    elif kind.startswith(b"ecdsa-sha2-"):
        curve_name, pos = _read_string(blob, pos)
        point, _ = _read_string(blob, pos)
        if curve_name not in _CURVES:
            raise SignatureError(f"不支持的椭圆曲线 {curve_name.decode(errors='replace')}")
        curve, h = _CURVES[curve_name]
        key = ("ecdsa", (ec.EllipticCurvePublicKey.from_encoded_point(curve, point), h))
    else:
        raise SignatureError(f"不支持的密钥类型 {kind.decode(errors='replace')}")
    return key


def verify(sig: Signature, message: bytes, namespace: str) -> None:
    """Check that sig signs message under namespace with its own key; raise SignatureError if not."""
    if sig.namespace != namespace:
        raise SignatureError(f"签名的用途（namespace）是 {sig.namespace}，应为 {namespace}")
    data = _signed_data(sig, message)
    kind, key = _public_key(sig.key_blob)
    try:
        if kind == "ed25519":
            if sig.sig_type != "ssh-ed25519":
                raise SignatureError("签名类型与公钥不符")
            key.verify(sig.sig, data)
        elif kind == "rsa":
            h = {"rsa-sha2-256": hashes.SHA256(), "rsa-sha2-512": hashes.SHA512()}.get(sig.sig_type)
            if h is None:
                raise SignatureError(f"不接受的 RSA 签名类型 {sig.sig_type}")
            key.verify(sig.sig, data, padding.PKCS1v15(), h)
        else:
            pub, h = key
            r, p = _read_string(sig.sig, 0)
            s, _ = _read_string(sig.sig, p)
            der = encode_dss_signature(int.from_bytes(r, "big"), int.from_bytes(s, "big"))
            pub.verify(der, data, ec.ECDSA(h))
    except InvalidSignature:
        raise SignatureError("签名与内容不符（提交或内容被改动过，或签名伪造）") from None
    except (ValueError, TypeError, OverflowError, UnsupportedAlgorithm):
        raise SignatureError("签名数据不合格式") from None


def sign(private_key, message: bytes, namespace: str) -> bytes:
    """An armored SSHSIG signature of message by an Ed25519PrivateKey (what `ssh-keygen -Y sign`
    makes); used by the benchmark and tests to sign many commits quickly."""
    pub = private_key.public_key().public_bytes_raw()
    key_blob = _string(b"ssh-ed25519") + _string(pub)
    sig = Signature(key_blob, namespace, "sha512", "ssh-ed25519", b"")
    raw = private_key.sign(_signed_data(sig, message))
    blob = (b"SSHSIG" + struct.pack(">I", 1) + _string(key_blob) + _string(namespace.encode()) + _string(b"")
            + _string(b"sha512") + _string(_string(b"ssh-ed25519") + _string(raw)))
    b64 = base64.b64encode(blob)
    lines = [b64[i:i + 70] for i in range(0, len(b64), 70)]
    return BEGIN + b"\n" + b"\n".join(lines) + b"\n" + END + b"\n"
