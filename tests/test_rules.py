"""Every rule has a failing example: tests/cases/invalid/<case>.json edits the valid base tree.

A case names a file of tests/cases/base, the JSON pointers to set (null deletes) or delete, or a
file to copy first or remove, and the problems validate must then report (code, pointer, a
piece of the message, severity). The base tree itself must be clean, so each expected problem
can only come from the rule under test.
"""

import json
import shutil
from pathlib import Path

import pytest

from jinqiu.check import validate
from jinqiu.records import layout, yamlstrict, yamlwrite

CASES = Path(__file__).parent / "cases" / "invalid"


def _load(path: Path, kind: str) -> dict:
    tree, _ = yamlstrict.load(path.read_bytes(), str(path))
    data, problems = yamlstrict.coerce(tree, layout.schema(kind), str(path), lambda p: 1)
    assert not problems
    return data


def _set(tree, pointer: str, value) -> None:
    *parents, last = pointer.strip("/").split("/")
    for part in parents:
        tree = tree[int(part)] if isinstance(tree, list) else tree[part]
    if isinstance(tree, list):
        if value is None:
            tree.pop(int(last))
        else:
            tree[int(last)] = value
    elif value is None:
        tree.pop(last, None)
    else:
        tree[last] = value


def apply_case(root: Path, case: dict) -> str:
    if "remove" in case:
        (root / case["remove"]).unlink()
    rel = case.get("file")
    if "copy" in case:
        src, rel = case["copy"]["from"], case["copy"]["to"]
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(root / src, root / rel)
    edits = ([(rel, case.get("set", {}), case.get("delete", []))] if rel else []) + \
        [(other, values, []) for other, values in case.get("also", {}).items()]  # a second file to edit
    for path, values, deletes in edits:
        kind, _ = layout.classify(path)
        data = _load(root / path, kind)
        for pointer, value in values.items():
            _set(data, pointer, value)
        for pointer in deletes:
            _set(data, pointer, None)
        (root / path).write_text(yamlwrite.dump(data, kind), encoding="utf-8")
    return case.get("target", rel)


def test_base_is_clean(base_data):
    _, problems = validate.run(base_data, "data")
    assert problems == []


@pytest.mark.parametrize("name", sorted(p.stem for p in CASES.glob("*.json")))
def test_invalid_case(base_data, name):
    case = json.loads((CASES / f"{name}.json").read_text(encoding="utf-8"))
    target = apply_case(base_data, case)
    _, problems = validate.run(base_data, "data")
    assert all(isinstance(p.message, str) and p.severity in ("error", "warning") for p in problems)  # no stray tuples
    for want in case["expect"]:
        found = [p for p in problems if p.code == want["code"] and p.path == f"data/{target}" and p.pointer == want["pointer"]]
        assert found, f"{name}: expected {want} in {[p.text() + ' ' + p.code + ' ' + p.pointer for p in problems]}"
        p = found[0]
        assert want["contains"] in p.message, p.message
        assert p.severity == want.get("severity", "error")
        # the line is the line of the field (or of its nearest parent) in the file as written
        _, lines = yamlstrict.load((base_data / target).read_bytes(), target, lines=True)
        pointer = want["pointer"]
        while pointer and pointer not in lines:
            pointer = pointer.rsplit("/", 1)[0]
        assert p.line == lines[pointer]
