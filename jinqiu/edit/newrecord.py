"""A new, empty record with every field of its form, each labelled with a Chinese comment.

The file is already canonical (`fmt --check` passes on it): the text is yamlwrite.dump of the
skeleton with the labels put back by jinqiu.edit.fmt, exactly as fmt would leave it.
"""

from __future__ import annotations

from . import fmt
from ..records import layout
from ..sheets import columns

_LEAVE_EMPTY = ""


def _blank(node: dict, root: dict, pointer: str, keep: set):
    node = layout._resolve(node, root)
    t = node.get("type")
    if t == "object":
        return {k: _blank(sub, root, f"{pointer}/{k}", keep)
                for k, sub in node.get("properties", {}).items() if f"{pointer}/{k}" in keep}
    if t == "array":
        return []
    if t == "boolean":
        return False
    return _LEAVE_EMPTY


def _pointers(kind: str, form: str | None) -> set:
    """Every pointer of the form, and the objects that hold them."""
    if kind == "report":
        root = layout.schema("report")
        out = set()

        def walk(node, ptr):
            node = layout._resolve(node, root)
            for k, sub in node.get("properties", {}).items():
                out.add(f"{ptr}/{k}")
                walk(sub, f"{ptr}/{k}")
        walk(root, "")
        return out
    cols = columns.template_columns(form if kind == "application" else "graduate")
    out = {"/id", "/year", "/unit", "/form", "/approvals"} if kind == "application" else {"/id", "/year", "/unit"}
    for c in cols:
        parts = c.pointer.split("/")
        for i in range(2, len(parts) + 1):
            out.add("/".join(parts[:i]))
    if kind == "application" and form == "local":
        out.add("/documents")
    # Left out: optional fields that are wrong when empty (added when there is something to say).
    return out - {"/student/id_number", "/student/birth_date", "/aid/paid_on", "/aid/paid_by", "/aid/paid_signature",
                  "/government_aid/source", "/government_aid/amount"}


def skeleton(kind: str, *, form: str | None, unit: str, year: int, record_id: str | None, filed_on: str,
             funding_unit: str | None = None) -> dict:
    """The record with every field of the form: known values filled in, the rest empty."""
    root = layout.schema(kind)
    keep = _pointers(kind, form)
    data = _blank(root, root, "", keep)
    data.update({"year": year, "unit": unit, "filed_on": filed_on})
    if kind == "report":
        return data
    data["id"] = record_id
    if kind == "application":
        data["form"] = form
        data["aid"]["funding_unit"] = funding_unit or unit
    return data


def _comment(kind: str, pointer: str) -> str:
    node = layout.field(kind, pointer)
    title = node.get("title") or pointer.rsplit("/", 1)[-1]
    if pointer in ("/id", "/year", "/unit", "/form"):
        return f"# {title}"
    return f"# {title}：{node.get('description', '')}".rstrip("：")


def text(kind: str, data: dict) -> str:
    """The record's canonical text with each field's label as a comment after it."""
    plain = fmt.render(data, kind)
    _, line_map = fmt.yamlstrict.load(plain.encode("utf-8"), "new", lines=True)
    attached = [(p, False, _comment(kind, p)) for p in line_map if p and not p.split("/")[-1].isdigit()]
    return fmt.with_comments(plain, attached)
