"""Writers seal: every command that writes an application or graduate record of a sealed year writes
it sealed to its union-year's public group key (data/sealing.yaml), which needs no private key.

With a key (a `keyring.Opener`), an existing sealed record is opened for matching and editing, and
sealing it again keeps each unchanged value's ciphertext (and, when nothing changed, the whole record
byte for byte). Without one, an existing sealed record cannot be matched or changed: the writer says
so, and only new records are written.
"""

from __future__ import annotations

from pathlib import Path

from ..records import dataset, layout, sealed


class Sealer:
    """The sealing of one data tree for a writer."""

    def __init__(self, root: Path, opener=None):
        self.cfg = sealed.load_config(root)  # sealed.ConfigError when unreadable: the caller says so
        self.opener = opener
        self._previous: dict[str, tuple[dict, bytes]] = {}  # rel -> (stored form, data key)
        self.locked: set[str] = set()  # rels of sealed records this writer cannot open

    def applies(self, kind: str, year) -> bool:
        return self.cfg is not None and kind in sealed.SEALABLE_KINDS and self.cfg.year_sealed(year)

    @staticmethod
    def pointers(kind: str) -> tuple:
        return layout.sealed_pointers(kind)

    def read(self, record: dataset.Record) -> dataset.Record:
        """The record as a writer sees it: opened when sealed and this person holds a key; else its
        keyless view (sealed values absent), marked locked."""
        if record.data is None or record.kind not in sealed.SEALABLE_KINDS or not sealed.is_sealed(record.data):
            return record
        if self.opener is not None:
            try:
                clear, key = self.opener.open_with_key(record.data, self.pointers(record.kind))
                self._previous[record.rel] = (record.data, key)
                return dataset.replace(record, data=clear)
            except sealed.SealError:
                pass
        self.locked.add(record.rel)
        return dataset.replace(record, data=sealed.hidden(record.data))

    def store(self, kind: str, data: dict, rel: str) -> dict:
        """The form to write: sealed to the union-year's group key when the year is sealed (keeping the
        ciphertexts of unchanged values of the version read), else the record itself."""
        if not self.applies(kind, data.get("year")):
            return data
        recipient = self.cfg.recipient(data.get("year"), str(data.get("unit", "")))
        if recipient is None:
            raise sealed.SealError(f"加密设置 sealing.yaml 中没有 {data.get('year')} 年度工会 {data.get('unit')} 的公开加密钥，"
                                   "无法加密保存；请市总工会管理员先运行 keys new-year")
        previous, key = self._previous.get(rel, (None, None))
        return sealed.seal(data, self.pointers(kind), recipient, previous=previous, previous_key=key)
