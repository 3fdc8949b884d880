"""The package is the pipeline as folders: each stage imports only the stages below it, and no two
modules import each other, directly or round a longer circle (lazy imports inside functions count).

The order, lowest first: the ground (problems, parallel), records, check, trust, sheets, publish,
edit, sample, commands, and the command line (cli) on top."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "jinqiu"
ORDER = ["", "records", "check", "trust", "sheets", "publish", "edit", "sample", "commands", "cli"]
GROUND = {"problems", "parallel", "__init__"}


def stage_of(module: str) -> str:
    """'jinqiu.trust.verify' -> 'trust'; the ground modules -> ''; 'jinqiu.cli' -> 'cli'."""
    parts = module.split(".")[1:]
    if not parts or parts[0] in GROUND:
        return ""
    return parts[0]


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, module imported) for every import of a jinqiu module in the file, at any depth."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "jinqiu"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "jinqiu":
                continue
            for a in node.names:  # `from . import x` may name a module or a value: take the module when it is one
                sub = f"{target}.{a.name}"
                is_module = (PACKAGE.parent / Path(*sub.split("."))).with_suffix(".py").is_file() \
                    or (PACKAGE.parent / Path(*sub.split("."))).is_dir()
                out.append((node.lineno, sub if is_module else target))
    return out


def graph() -> dict[str, list[tuple[int, str]]]:
    return {module_name(p): imports(p) for p in sorted(PACKAGE.rglob("*.py"))}


def upward(g) -> list[str]:
    found = []
    for src, targets in g.items():
        for line, dst in targets:
            if ORDER.index(stage_of(dst)) > ORDER.index(stage_of(src)):
                found.append(f"{src}:{line} imports {dst} ({stage_of(src) or 'ground'} < {stage_of(dst)})")
    return found


def circles(g) -> list[list[str]]:
    """Every strongly connected set of more than one module (Tarjan), by module."""
    edges = {src: sorted({d for _, d in targets if d in g and d != src}) for src, targets in g.items()}
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def test_no_stage_imports_a_stage_above_it():
    assert upward(graph()) == []


def test_no_circle_of_imports():
    assert circles(graph()) == []


def test_every_module_belongs_to_a_known_stage():
    unknown = sorted(m for m in graph() if stage_of(m) not in ORDER and m != "jinqiu")
    assert unknown == []


@pytest.mark.parametrize("stage", [s for s in ORDER if s and s != "cli"])
def test_each_stage_says_what_it_takes_and_returns(stage):
    init = PACKAGE / stage / "__init__.py"
    doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) if init.is_file() else None
    assert doc, f"jinqiu/{stage}/__init__.py has no docstring"


def test_the_checks_catch_an_upward_import_and_a_circle():
    """The walk above can fail: an import from records up to publish, and a pair importing each other."""
    g = {
        "jinqiu.records.layout": [(3, "jinqiu.publish.site")],
        "jinqiu.publish.site": [(5, "jinqiu.records.layout")],
        "jinqiu.check.rules": [(7, "jinqiu.check.crossrules")],
        "jinqiu.check.crossrules": [(9, "jinqiu.check.rules")],
    }
    assert upward(g) == ["jinqiu.records.layout:3 imports jinqiu.publish.site (records < publish)"]
    assert circles(g) == [["jinqiu.check.crossrules", "jinqiu.check.rules"], ["jinqiu.publish.site", "jinqiu.records.layout"]]
