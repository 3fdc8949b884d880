"""One canonical form for every data file, comments kept, meaning never changed.

The canonical text of a record is `yamlwrite.dump` (keys in schema order, ID numbers, phones and
every other risky text quoted, no blank lines), with the file's comments put back:

- a comment on a line of its own goes before the field that followed it, indented like that
  field (a comment at the end of the file stays at the end);
- a comment after a value stays after that field's value, one space before the #.

Comments are found from the strict parser's own scalar positions, so a # inside a quoted string
or a block of text is never mistaken for one. Before anything is written, the new text is read
back with jinqiu.records.yamlstrict and typed by the schema: the values must equal the old ones and the
comments must be the same comments, or the file is left as it is and reported.

Why not ruamel.yaml's round trip: its emitter would have to be made to agree byte for byte with
yamlwrite.dump for every comment-free file, and it reads YAML 1.2 while yamlwrite quotes for
YAML 1.1 readers; re-attaching comments to the canonical text by JSON pointer needs neither.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..records import dataset, layout, yamlstrict, yamlwrite
from ..problems import Problem

try:
    from yaml._yaml import CParser as _Parser
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as _Parser
from yaml.events import ScalarEvent, StreamEndEvent


@dataclass(frozen=True)
class Comment:
    line: int  # 1-based line in the file
    own_line: bool  # a whole-line comment (else it follows a value)
    text: str  # from the # to the end of the line


def _scalar_spans(text: str) -> list:
    """((line, col), (line, col)) of every scalar in the text, 0-based, end exclusive."""
    parser = _Parser(text.encode("utf-8") if _Parser.__module__ == "yaml._yaml" else text)
    spans = []
    while True:
        ev = parser.get_event()
        if ev is None or isinstance(ev, StreamEndEvent):
            break
        if isinstance(ev, ScalarEvent):
            start = (ev.start_mark.line, ev.start_mark.column)
            if ev.style in ("|", ">"):
                start = (ev.start_mark.line + 1, 0)  # the header line may carry a comment
            spans.append((start, (ev.end_mark.line, ev.end_mark.column)))
    return spans


def comments(text: str) -> list[Comment]:
    """Every comment in a YAML text (already known to parse)."""
    if "#" not in text:
        return []
    spans = _scalar_spans(text)
    by_line: dict = {}
    for (sl, sc), (el, ec) in spans:
        for line in range(sl, el + 1):
            by_line.setdefault(line, []).append((sc if line == sl else 0, ec if line == el else 10**9))
    found = []
    for i, line in enumerate(text.split("\n")):
        start = 0
        while True:
            col = line.find("#", start)
            if col < 0:
                break
            start = col + 1
            if col > 0 and line[col - 1] not in " \t":
                continue
            if any(a <= col < b for a, b in by_line.get(i, ())):
                continue
            found.append(Comment(i + 1, line[:col].strip() == "", line[col:].rstrip()))
            break
    return found


def _attach(found: list[Comment], line_map: dict) -> list:
    """(pointer or None for the end of the file, own_line, text) for each comment."""
    starts: dict = {}
    for pointer, line in line_map.items():
        starts.setdefault(line, []).append(pointer)
    lines = sorted(starts)
    out = []
    for c in found:
        if c.own_line:
            after = [n for n in lines if n > c.line]
            if not after:
                out.append((None, True, c.text))
                continue
            target = min(starts[after[0]], key=lambda p: (p.count("/"), p))
        else:
            before = [n for n in lines if n <= c.line]
            target = max(starts[before[-1]], key=lambda p: (p.count("/"), p)) if before else ""
        out.append((target, c.own_line, c.text))
    return out


def render(data: dict, kind: str, old: bytes | str | None = None) -> str:
    """The canonical text of a record, with the comments of the old text (if any) put back."""
    text = yamlwrite.dump(data, kind)
    if old is None:
        return text
    old_text = old.decode("utf-8") if isinstance(old, bytes) else old
    found = comments(old_text)
    if not found:
        return text
    _, old_map = yamlstrict.load(old_text.encode("utf-8"), "old", lines=True)
    return with_comments(text, _attach(found, old_map))


def with_comments(text: str, attached: list) -> str:
    """Put comments (pointer, own_line, text) into a canonical text by pointer."""
    _, line_map = yamlstrict.load(text.encode("utf-8"), "new", lines=True)
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    before: dict = {}
    after: dict = {}
    tail = []
    for pointer, own, comment in attached:
        if pointer is None:
            tail.append(comment)
            continue
        n = line_map.get(pointer, line_map.get("", 1)) - 1
        (before if own else after).setdefault(n, []).append(comment)
    out = []
    for i, line in enumerate(lines):
        indent = len(line) - len(line.lstrip(" "))
        for c in before.get(i, ()):
            out.append(" " * indent + c)
        if i in after:
            line = line + " " + " ".join(after[i])
        out.append(line)
    out.extend(tail)
    return "\n".join(out) + "\n"


def _typed(raw: bytes, kind: str, path: str):
    tree, _ = yamlstrict.load(raw, path)
    data, _ = yamlstrict.coerce(tree, layout.schema_for(kind, tree), path, lambda p: 1)
    return data


def _same(a, b) -> bool:
    """Equal values of equal types (True is not 1, Decimal 1.0 is Decimal 1)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


def canonical(raw: bytes, kind: str, path: str) -> tuple[str | None, Problem | None]:
    """(the canonical text, None) or (None, the reason the file cannot be formatted)."""
    try:
        data = _typed(raw, kind, path)
    except yamlstrict.YamlError as exc:
        return None, exc.problem()
    text = render(data, kind, raw)
    try:
        again = _typed(text.encode("utf-8"), kind, path)
    except yamlstrict.YamlError as exc:  # pragma: no cover - would be a bug in the writer
        return None, Problem(path, 1, "", "fmt-unsafe", f"整理后的文本无法读取（{exc.message}），文件未改动")
    if not _same(data, again):
        return None, Problem(path, 1, "", "fmt-unsafe", "整理会改变某个值的含义，文件未改动；请手工检查此文件")
    old_comments = sorted(c.text for c in comments(raw.decode("utf-8")))
    if old_comments != sorted(c.text for c in comments(text)):
        return None, Problem(path, 1, "", "fmt-unsafe", "整理会丢失注释，文件未改动；请把注释移到单独一行")
    return text, None


@dataclass
class Result:
    changed: list  # display paths that are (or were) not canonical
    problems: list


def run(root: Path, display_root: str, paths: list[Path] | None, check: bool) -> Result:
    """Rewrite (or with check, only list) every data file that is not in canonical form."""
    rels = []
    if paths:
        for p in paths:
            if p.is_dir():
                base = p.resolve().relative_to(root.resolve())
                rels += [f"{base.as_posix()}/{r}".lstrip("./") if str(base) != "." else r for r in dataset.discover(p)]
            else:
                rels.append(p.resolve().relative_to(root.resolve()).as_posix())
    else:
        rels = dataset.discover(root)
    result = Result([], [])
    for rel in rels:
        kind, _ = layout.classify(rel)
        if kind is None:
            continue
        path = dataset.display_path(display_root, rel)
        try:
            raw = dataset.read_bytes(root, rel)
        except dataset.NotRegularFile as exc:
            result.problems.append(Problem(path, 1, "", "path-not-a-file", f"{exc.reason}；未整理"))
            continue
        text, problem = canonical(raw, kind, path)
        if problem is not None:
            result.problems.append(problem)
            continue
        if text.encode("utf-8") != raw:
            result.changed.append(path)
            if not check:
                dataset.write_text(root, rel, text)  # never through a link
    return result
