"""Which duplicate tags count: those the city build's registered SSH key signed (issue 21, invariant 8).

Invariant: a tags file `data/tags/<Y>.yaml` counts only when its `signature` is a good SSH signature
(namespace `jinqiu-tags@jinqiu.invalid`) over the rest of its content (check.dupetags.signed_bytes), made
by the key sealing.yaml names as `build_signer`, and the year inside it is the year of its name. Anyone
with write access can edit, delete or replay such a file: an edit breaks the signature (an error, the file
counts for nothing); a deletion or an older signed copy only withholds tags (the keyless tier then finds
fewer duplicates, says how many sealed records have no current tags, and the keyed run finds them all);
a tag signed for other values does not count (dupetags.Tags.of matches the record's commitment).
sealing.yaml itself is trust data (an administrator signs every change, trust.anchor), so `build_signer`
is whom the administrators registered.
"""

from __future__ import annotations

from pathlib import Path

from ..check import dupetags
from ..problems import ERROR, Problem
from ..records import dataset as ds
from ..records import sealed
from . import registry, sshsig

NAMESPACE_TAGS = "jinqiu-tags@jinqiu.invalid"


def tag_rels(root: Path) -> list[str]:
    folder = Path(root) / "tags"
    return sorted(f"tags/{p.name}" for p in folder.glob("*.yaml")) if folder.is_dir() else []


def verified(root: Path, display_root: str, cfg: sealed.Sealing | None) -> tuple[dupetags.Tags, list[Problem]]:
    """(the tags that count, a problem for each tags file that does not)."""
    years, problems = {}, []
    rels = tag_rels(root)
    if not rels or cfg is None:
        return dupetags.Tags(), problems
    want = None
    if cfg.build_signer:
        try:
            want = registry.ssh_fingerprint(cfg.build_signer)
        except sshsig.SignatureError:
            want = None
    for rel in rels:
        record, found, _ = ds.read_one(root, display_root, rel)
        if record.data is None or found:
            continue  # validate names what is wrong with the file itself
        data = record.data
        shown = record.path

        def refuse(message: str) -> None:
            problems.append(Problem(shown, 1, "/signature", "tags-unsigned", f"{message}；这些查重标记不算数", ERROR))

        if want is None:
            refuse("加密设置 sealing.yaml 中没有登记构建机签名公钥 build_signer")
            continue
        if f"tags/{data.get('year')}.yaml" != rel:
            refuse(f"文件里的年度 {data.get('year')} 与文件名不符")
            continue
        try:
            sig = sshsig.parse(str(data.get("signature", "")))
            sshsig.verify(sig, dupetags.signed_bytes(data), NAMESPACE_TAGS)
        except sshsig.SignatureError as exc:
            refuse(f"构建机签名无效（{exc}）")
            continue
        if sig.fingerprint != want:
            refuse(f"签名的钥匙 {sig.fingerprint} 不是登记的构建机签名公钥 {want}")
            continue
        years[int(data["year"])] = data
    return dupetags.Tags(years), problems


def signed(content: dict, signer) -> dict:
    """The tags file's content with its signature (signer(bytes) -> armored SSH signature)."""
    body = {k: v for k, v in content.items() if k != "signature"}
    return {**body, "signature": signer(dupetags.signed_bytes(body)).decode("ascii")}
