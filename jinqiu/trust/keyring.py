"""Who can read a union-year's personal values: group keys wrapped to the union's chain, kept in a
key directory outside the data repository's history.

Each union-year has a group identity `I(Y,U)` (age X25519); its public recipient `R(Y,U)` is trust
data (`data/sealing.yaml` `groups`), so a writer seals to it with no private key. A keyring file
`<keys>/<Y>/<U>.<gen>.age` holds `I(Y,U)` wrapped to the union's chain as the registry
(`sealing.yaml` `members`, `units.yaml`) stands on the day it is made: the members of the union and
of every union above it, the city build key and the escrow key. A revoked member is left out of
every keyring made on or after the revocation, and `rotate` starts a new generation that every later
filing uses, so a revoked member reads nothing filed after it.

A keyring's authenticity is a detached SSH signature (namespace `jinqiu-keyring@jinqiu.invalid`) by
a registry administrator over `<Y>/<U>.<gen>` and the file's bytes, not the key directory's commit
history, so that directory (a small git repository of its own) can be rewritten: `shred` removes a
year and leaves no copy behind in it.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from pathlib import Path

from ..records import sealed
from ..records.sealed import Sealing, load_config as load  # noqa: F401  (the set-up, read by records)
from . import sshsig

NAMESPACE_KEYRING = "jinqiu-keyring@jinqiu.invalid"
_KEYRING_NAME = re.compile(r"^(?P<unit>[a-z0-9-]+)\.(?P<gen>[0-9]+)\.age$")


class KeyError_(Exception):
    """A key set-up problem; the message is Chinese and names what to do."""


def chain_units(unit: str, units: dict[str, dict]) -> list[str]:
    """The union and every union above it, up to the city."""
    out, seen = [], set()
    while unit and unit not in seen:
        seen.add(unit)
        out.append(unit)
        unit = (units.get(unit) or {}).get("parent")
    return out


def chain(cfg: Sealing, unit: str, units: dict[str, dict], day: str) -> list[tuple[str, str]]:
    """(who, recipient) of everyone a keyring of `unit` made on `day` is wrapped to."""
    above = set(chain_units(unit, units))
    out = [("build", cfg.build), ("escrow", cfg.escrow)]
    for m in cfg.members:
        if m.get("unit") not in above:
            continue
        if str(m.get("valid_from", "9999")) > day:
            continue
        if m.get("revoked_on") and day >= str(m["revoked_on"]):
            continue
        out.append((str(m.get("id")), str(m.get("recipient"))))
    return out


def new_group() -> tuple[str, str]:
    """A fresh group identity: (secret `AGE-SECRET-KEY-1…`, public `age1…`)."""
    import pyrage

    ident = pyrage.x25519.Identity.generate()
    return str(ident), str(ident.to_public())


def keyring_path(keys_dir: Path, year, unit: str, gen: int) -> Path:
    return Path(keys_dir) / str(year) / f"{unit}.{gen}.age"


def signed_bytes(year, unit: str, gen: int, blob: bytes) -> bytes:
    return f"{year}/{unit}.{gen}\n".encode() + blob


def write_keyring(keys_dir: Path, year, unit: str, gen: int, group_secret: str, recipients, signer=None) -> Path:
    """Wrap a group identity to the recipients; write it and (with signer(bytes) -> armored SSH
    signature) its detached signature beside it."""
    import pyrage

    rs = [pyrage.x25519.Recipient.from_str(r) for r in dict.fromkeys(recipients)]
    blob = pyrage.encrypt(group_secret.encode("ascii"), rs)
    signature = signer(signed_bytes(year, unit, gen, blob)) if signer is not None else None  # before anything is written
    path = keyring_path(keys_dir, year, unit, gen)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(blob)
    if signature is not None:
        Path(f"{path}.sig").write_bytes(signature)
    return path


TAG_KEY = "_tags"  # <keys>/<Y>/_tags.age: the year's duplicate-tag key (check.dupetags), wrapped to build and escrow


def tag_key_path(keys_dir: Path, year) -> Path:
    return Path(keys_dir) / str(year) / f"{TAG_KEY}.age"


def write_tag_key(keys_dir: Path, year, cfg: Sealing, signer) -> Path | None:
    """Make a year's tag key once, wrapped to the city build and escrow only (no member, no clerk: a key
    that hashes ID numbers must never reach a filer) and signed by the administrator; None when it exists."""
    import base64
    import os

    import pyrage

    path = tag_key_path(keys_dir, year)
    if path.exists():
        return None
    secret = base64.b64encode(os.urandom(32))
    blob = pyrage.encrypt(secret, [pyrage.x25519.Recipient.from_str(r) for r in dict.fromkeys([cfg.build, cfg.escrow])])
    signature = signer(signed_bytes(year, TAG_KEY, 0, blob))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(blob)
    Path(f"{path}.sig").write_bytes(signature)
    return path


def ssh_signer(private_key_file: Path, namespace: str = NAMESPACE_KEYRING, what: str = "密钥环",
               missing: str = "管理员的签名私钥 {file} 不存在（--admin-key 应是管理员本人的 SSH 私钥文件）"):
    """A signer that uses `ssh-keygen -Y sign` with a key file (the administrator's); a missing file is
    said at once, before anything is signed or written."""
    if not Path(private_key_file).is_file():
        raise KeyError_(missing.format(file=private_key_file))

    def sign(message: bytes) -> bytes:
        p = subprocess.run(["ssh-keygen", "-q", "-Y", "sign", "-n", namespace, "-f", str(private_key_file)],
                           input=message, capture_output=True)
        if p.returncode != 0:
            raise KeyError_(f"无法用 {private_key_file} 签名{what}：它不是可用的 SSH 私钥，或口令不对"
                            f"（ssh-keygen 说：{p.stderr.decode(errors='replace').strip()}）")
        return p.stdout

    return sign


PASSPHRASE_ENV = "JINQIU_PASSPHRASE"


def read_identities(path: Path, passphrase=None) -> list:
    """The age identities in a file (one `AGE-SECRET-KEY-1…` a line; # comments); a file protected by
    a passphrase (age scrypt, as `keys init` writes it) is opened with passphrase() -> str."""
    import pyrage

    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        why = "文件不存在" if isinstance(exc, FileNotFoundError) else "没有读取权限" if isinstance(exc, PermissionError) \
            else "它是目录" if isinstance(exc, IsADirectoryError) else exc.strerror
        raise KeyError_(f"无法读取密钥文件 {path}：{why}") from exc
    if raw.startswith(b"age-encryption.org/v1\n-> scrypt "):
        if passphrase is None:
            raise KeyError_(f"密钥文件 {path} 有口令保护：请在终端输入口令，或在构建机上设置环境变量 {PASSPHRASE_ENV}")
        try:
            raw = pyrage.passphrase.decrypt(raw, passphrase())
        except Exception as exc:
            raise KeyError_(f"口令不对，打不开密钥文件 {path}") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise KeyError_(f"密钥文件 {path} 不是 age 私钥文件") from exc
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            try:
                out.append(pyrage.x25519.Identity.from_str(line))
            except Exception as exc:
                raise KeyError_(f"密钥文件 {path} 中有一行不是 age 私钥（AGE-SECRET-KEY-1…）") from exc
    if not out:
        raise KeyError_(f"密钥文件 {path} 中没有 age 私钥")
    return out


class Opener:
    """Opens the group identities a person's own identities entitle them to, from a key directory;
    only keyrings with a good signature by an administrator's registered key count."""

    def __init__(self, keys_dir: Path, identities, admin_keys: dict[str, str] | None):
        self.keys_dir = Path(keys_dir)
        self.identities = list(identities)
        self.admin_keys = admin_keys  # fingerprint -> reviewer id; None: signatures not checked (tests of the crypto only)
        self._groups: dict[tuple[str, str], list] = {}
        self.problems: list[str] = []

    def _check(self, path: Path, year: str, unit: str, gen: int, blob: bytes) -> bool:
        if self.admin_keys is None:
            return True
        sig_path = Path(f"{path}.sig")
        try:
            sig = sshsig.parse(sig_path.read_bytes())
            sshsig.verify(sig, signed_bytes(year, unit, gen, blob), NAMESPACE_KEYRING)
        except (OSError, sshsig.SignatureError) as exc:
            self.problems.append(f"密钥环 {year}/{unit}.{gen} 没有有效的管理员签名（{exc}），不予使用")
            return False
        if sig.fingerprint not in self.admin_keys:
            self.problems.append(f"密钥环 {year}/{unit}.{gen} 的签名不是登记管理员的钥匙，不予使用")
            return False
        return True

    def groups(self, year, unit: str) -> list:
        """The group identities of (year, unit) this person can open (every generation)."""
        import pyrage

        key = (str(year), unit)
        if key not in self._groups:
            found = []
            folder = self.keys_dir / str(year)
            for path in sorted(folder.glob(f"{unit}.*.age")) if folder.is_dir() else []:
                m = _KEYRING_NAME.match(path.name)
                if not m or m["unit"] != unit:
                    continue
                blob = path.read_bytes()
                if not self._check(path, str(year), unit, int(m["gen"]), blob):
                    continue
                try:
                    secret = pyrage.decrypt(blob, self.identities).decode("ascii")
                except Exception:
                    continue  # not on this union's chain (or not when this generation was made)
                found.append(pyrage.x25519.Identity.from_str(secret.strip()))
            self._groups[key] = found
        return self._groups[key]

    def tag_key(self, year) -> bytes | None:
        """The year's duplicate-tag key, when an administrator signed it and this person's identity opens it
        (the city build or the escrow); None otherwise (no tags that year, or not entitled, or shredded)."""
        import base64

        import pyrage

        path = tag_key_path(self.keys_dir, year)
        if not path.is_file():
            return None
        blob = path.read_bytes()
        if not self._check(path, str(year), TAG_KEY, 0, blob):
            return None
        try:
            return base64.b64decode(pyrage.decrypt(blob, self.identities), validate=True)
        except Exception:
            return None

    def open(self, stored: dict, pointers) -> dict:
        """The clear form of a sealed record; sealed.SealError when this person cannot open it."""
        return self.open_with_key(stored, pointers)[0]

    def open_with_key(self, stored: dict, pointers) -> tuple[dict, bytes]:
        """(clear form, data key) of a sealed record; sealed.SealError when this person cannot open it."""
        ids = self.groups(stored.get("year"), str(stored.get("unit", "")))
        if not ids:
            raise sealed.SealError(f"没有 {stored.get('year')} 年度工会 {stored.get('unit')} 的密钥环可以用你的钥匙打开"
                                   "（你不在它的审批链上，已被吊销，或该年度已销毁）")
        return sealed.open_with_key(stored, pointers, ids)


def admin_fingerprints(reviewers: dict[str, dict]) -> dict[str, str]:
    """fingerprint -> reviewer id of every administrator's SSH key that is not revoked."""
    from . import registry

    out = {}
    for rid, r in reviewers.items():
        if not (r.get("admin") is True and r.get("level") == 3):
            continue
        for k in r.get("keys") or []:
            if isinstance(k, dict) and k.get("type") == "ssh" and not k.get("revoked_on"):
                try:
                    out[registry.ssh_fingerprint(str(k.get("public_key", "")))] = rid
                except sshsig.SignatureError:
                    pass
    return out


def next_gen(keys_dir: Path, year, unit: str) -> int:
    folder = Path(keys_dir) / str(year)
    gens = [int(m["gen"]) for p in (folder.glob(f"{unit}.*.age") if folder.is_dir() else [])
            if (m := _KEYRING_NAME.match(p.name)) and m["unit"] == unit]
    return max(gens, default=0) + 1


def shred(keys_dir: Path, year) -> list[Path]:
    """Remove every keyring of a year from the key directory and, when it is a git repository, rewrite
    its history to one new root commit and prune every unreachable object, so no copy is left in it.
    Returns the files removed."""
    keys_dir = Path(keys_dir)
    folder = keys_dir / str(year)
    removed = sorted(folder.rglob("*")) if folder.is_dir() else []
    if folder.is_dir():
        shutil.rmtree(folder)
    if (keys_dir / ".git").exists():
        def git(*args):
            return subprocess.run(["git", "-C", str(keys_dir), *args], capture_output=True, text=True)

        git("checkout", "-q", "--orphan", "jinqiu-shred")
        git("add", "-A")
        git("-c", "user.name=jinqiu", "-c", "user.email=jinqiu@jinqiu.invalid", "-c", "commit.gpgsign=false",
            "commit", "-q", "--allow-empty", "-m", f"销毁 {year} 年度的密钥环")
        branches = [b for b in git("for-each-ref", "--format=%(refname:short)", "refs/heads/").stdout.split() if b != "jinqiu-shred"]
        for b in branches:
            git("branch", "-D", b)
        git("branch", "-m", "main")
        for ref in git("for-each-ref", "--format=%(refname)", "refs/").stdout.split():
            if not ref.startswith("refs/heads/"):
                git("update-ref", "-d", ref)
        git("reflog", "expire", "--expire=now", "--all")
        git("gc", "-q", "--prune=now")
    return removed


def today() -> str:
    return dt.date.today().isoformat()
