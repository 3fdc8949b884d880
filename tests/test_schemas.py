"""The schemas are the one place a field is defined: valid, labelled, and clear about privacy."""

import json
import re
from pathlib import Path

import jsonschema
import pytest

from jinqiu.records import layout

SCHEMAS = sorted((Path(__file__).resolve().parent.parent / "schemas").glob("*.schema.json"))
CJK = re.compile(r"[\u4e00-\u9fff]")
PERSONAL = re.compile(r"(^|_)(name|id_number|id_numbers|phone|address|income_per_capita|hardship_cause|birth_month|filled_by)$")


def properties(node, path=""):
    """(path, name, schema) of every named property, through $defs too."""
    for name, sub in node.get("properties", {}).items():
        yield f"{path}/{name}", name, sub
        yield from properties(sub, f"{path}/{name}")
        if isinstance(sub.get("items"), dict):
            yield from properties(sub["items"], f"{path}/{name}/*")
    for name, sub in node.get("$defs", {}).items():
        yield from properties(sub, f"#{name}")


@pytest.mark.parametrize("path", SCHEMAS, ids=lambda p: p.name)
def test_schema_is_valid_draft_2020_12(path):
    schema = json.loads(path.read_text(encoding="utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("path", SCHEMAS, ids=lambda p: p.name)
def test_every_field_has_a_chinese_title_and_a_description(path):
    schema = json.loads(path.read_text(encoding="utf-8"))
    for where, _, sub in properties(schema):
        assert CJK.search(sub.get("title", "")), f"{path.name}{where}: no Chinese title"
        assert sub.get("description"), f"{path.name}{where}: no description"


@pytest.mark.parametrize("path", SCHEMAS, ids=lambda p: p.name)
def test_personal_fields_are_marked_and_never_public(path):
    schema = json.loads(path.read_text(encoding="utf-8"))
    for where, name, sub in properties(schema):
        assert not (sub.get("x-public") and sub.get("x-personal")), where
        if PERSONAL.search(name) and path.name != "units.schema.json" and not where.endswith("forge/name"):
            assert sub.get("x-personal"), f"{path.name}{where} holds personal data: mark it x-personal"


def test_every_kind_has_its_schema():
    for kind in layout.KINDS:
        assert layout.schema(kind)["title"]


def test_labels_come_from_the_schema():
    assert layout.label("application", "/worker/id_number") == "身份证号码"
    assert layout.label("application", "/approvals/0/opinion") == "意见"
    assert layout.label("report", "/funds/total") == "共筹集资金（万元）"
