"""The strict loader keeps clerks' text exact and refuses YAML's traps."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from jinqiu.problems import Problem
from jinqiu.records.yamlstrict import MAX_BYTES, MAX_DEPTH, YamlError, coerce, load


def tree_of(text: str):
    tree, line_map = load(text.encode("utf-8"), "a.yaml")
    assert line_map is None
    return tree


def error_of(data, **kwargs) -> YamlError:
    if isinstance(data, str):
        data = data.encode("utf-8")
    with pytest.raises(YamlError) as info:
        load(data, "a.yaml", **kwargs)
    err = info.value
    assert err.path == "a.yaml"
    assert f"第 {err.line} 行" in err.message
    return err


def only_problem(tree, schema):
    lines = {}
    out, problems = coerce(tree, schema, "a.yaml", lambda p: lines.setdefault(p, 7))
    assert len(problems) == 1, problems
    return out, problems[0]


STRING = {"type": "string"}


def one_field(kind):
    return {"type": "object", "properties": {"v": {"type": kind}}}


# ---------------------------------------------------------------- exact text

@pytest.mark.parametrize(
    "text",
    [
        "0411-84123456",        # phone with leading zero
        "04118412345",          # would be octal-ish
        "010",                  # octal in YAML 1.1
        "210202199001011234",   # 18-digit ID
        "21020219900101123X",   # ID ending in X
        "2011-08-01",           # date
        "2011-08-01 10:20:30",  # timestamp
        "1:20",                 # base 60
        "1_000",
        "0x1F",
        "1e3",
        ".nan",
        ".inf",
        "~",
        "null",
        "no",
        "on",
        "yes",
        "off",
        "True",
        "3",
        "1200.50",
    ],
)
def test_plain_scalars_stay_exact_text(text):
    assert tree_of(f"v: {text}\n") == {"v": text}


def test_phone_with_leading_zero_stays_text():
    tree = tree_of("worker:\n  phone: 0411-84123456\n  tel: 041184123456\n")
    assert tree == {"worker": {"phone": "0411-84123456", "tel": "041184123456"}}


def test_id_numbers_stay_exact():
    tree = tree_of("a: 210202199001011234\nb: 21020219900101123X\n")
    assert tree == {"a": "210202199001011234", "b": "21020219900101123X"}
    assert type(tree["a"]) is str


def test_no_and_on_as_keys_and_values_stay_text():
    tree = tree_of("no: on\non: no\nyes: off\n")
    assert tree == {"no": "on", "on": "no", "yes": "off"}


def test_empty_value_is_empty_string_and_quotes_are_kept_as_text():
    tree = tree_of("a:\nb: ''\nc: \"0411\"\nd: |\n  第一行\n  第二行\n")
    assert tree == {"a": "", "b": "", "c": "0411", "d": "第一行\n第二行\n"}


def test_only_dicts_lists_and_strings():
    tree = tree_of("a: [1, 2.5, true, ~]\nb: {c: 2011-08-01}\n")
    assert tree == {"a": ["1", "2.5", "true", "~"], "b": {"c": "2011-08-01"}}


def test_utf8_bom_is_accepted():
    tree, _ = load("\ufeff姓名: 张三\n".encode("utf-8"), "a.yaml")
    assert tree == {"姓名": "张三"}


def test_strings_survive_coerce_where_schema_says_string():
    texts = ["0411-84123456", "210202199001011234", "21020219900101123X", "2011-08-01",
             "no", "~", ".nan", "1:20", "1_000", "0x1F"]
    tree = {f"k{i}": t for i, t in enumerate(texts)}
    schema = {"type": "object", "additionalProperties": STRING}
    out, problems = coerce(tree, schema, "a.yaml", lambda p: 1)
    assert problems == []
    assert out == tree


# ---------------------------------------------------------------- coerce

def test_coerce_converts_integer_number_boolean():
    schema = {
        "type": "object",
        "properties": {
            "n": {"type": "integer"},
            "m": {"type": "number"},
            "b": {"type": "boolean"},
            "s": {"type": "string"},
            "z": {"type": "boolean"},
            "neg": {"type": "integer"},
        },
    }
    tree = {"n": "3", "m": "1200.50", "b": "true", "s": "3", "z": "否", "neg": "-12"}
    out, problems = coerce(tree, schema, "a.yaml", lambda p: 1)
    assert problems == []
    assert out == {"n": 3, "m": Decimal("1200.50"), "b": True, "s": "3", "z": False, "neg": -12}
    assert type(out["n"]) is int and type(out["m"]) is Decimal and out["b"] is True
    assert str(out["m"]) == "1200.50"
    assert tree["n"] == "3"  # input untouched


def test_coerce_follows_ref_defs_items_and_additional_properties():
    schema = {
        "$defs": {
            "money": {"type": "number"},
            "approval": {
                "type": "object",
                "properties": {"level": {"type": "integer"}, "ok": {"$ref": "#/$defs/flag"}},
            },
            "flag": {"type": "boolean"},
        },
        "type": "object",
        "properties": {
            "amount": {"$ref": "#/$defs/money"},
            "approvals": {"type": "array", "items": {"$ref": "#/$defs/approval"}},
        },
        "additionalProperties": {"type": "integer"},
    }
    tree = {"amount": "1200.50", "approvals": [{"level": "1", "ok": "true"}, {"level": "2", "ok": "false"}],
            "extra": "5"}
    out, problems = coerce(tree, schema, "a.yaml", lambda p: 1)
    assert problems == []
    assert out == {"amount": Decimal("1200.50"),
                   "approvals": [{"level": 1, "ok": True}, {"level": 2, "ok": False}], "extra": 5}


def test_coerce_follows_allof_and_if_then_else():
    schema = {
        "type": "object",
        "properties": {"kind": STRING, "count": {}},
        "allOf": [
            {"properties": {"score": {"type": "integer"}}},
            {
                "if": {"properties": {"kind": {"const": "student"}}, "required": ["kind"]},
                "then": {"properties": {"count": {"type": "integer"}}},
                "else": {"properties": {"count": {"type": "boolean"}}},
            },
        ],
    }
    out, problems = coerce({"kind": "student", "count": "3", "score": "612"}, schema, "a.yaml", lambda p: 1)
    assert problems == []
    assert out == {"kind": "student", "count": 3, "score": 612}
    out, problems = coerce({"kind": "worker", "count": "true"}, schema, "a.yaml", lambda p: 1)
    assert problems == []
    assert out == {"kind": "worker", "count": True}


def test_coerce_type_list_and_untouched_objects():
    schema = {"type": "object", "properties": {
        "a": {"type": ["integer", "null"]}, "b": {"type": ["string", "integer"]}, "c": {"type": "object"}}}
    inner = {"x": "1"}
    tree = {"a": "4", "b": "5", "c": inner}
    out, problems = coerce(tree, schema, "a.yaml", lambda p: 1)
    assert problems == []
    assert out == {"a": 4, "b": "5", "c": {"x": "1"}}
    assert out["c"] is inner
    same, _ = coerce({"c": inner}, schema, "a.yaml", lambda p: 1)
    assert same["c"] is inner


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("1_000", "下划线"),
        ("0x1F", "十六进制"),
        ("1:20", "冒号"),
        ("010", "0 开头"),
        ("1e3", "科学计数法"),
        (".nan", "不是一个有限的数"),
        ("~", "“~”"),
        ("", "空"),
        ("3.5", "小数"),
        ("3元", "单位"),
    ],
)
def test_bad_integers_are_kept_and_reported(text, word):
    out, problem = only_problem({"v": text}, one_field("integer"))
    assert out == {"v": text}
    assert problem.code == "yaml-not-integer"
    assert problem.pointer == "/v" and problem.line == 7 and problem.path == "a.yaml"
    assert "应为整数" in problem.message and f"“{text}”" in problem.message
    assert word in problem.message


@pytest.mark.parametrize("text", ["1_000.5", "0x1F", "1:20", ".nan", "~", ".5", "1,200.50", "1e3"])
def test_bad_numbers_are_kept_and_reported(text):
    out, problem = only_problem({"v": text}, one_field("number"))
    assert out == {"v": text}
    assert problem.code == "yaml-not-number"
    assert "应为数字" in problem.message


def test_full_width_digits_are_not_converted():
    out, problem = only_problem({"worker": {"v": "５０００"}},
                                {"properties": {"worker": one_field("integer")}})
    assert out == {"worker": {"v": "５０００"}}
    assert problem.code == "yaml-not-integer"
    assert problem.pointer == "/worker/v"
    assert "全角" in problem.message and "５０００" in problem.message
    _, problem = only_problem({"v": "１２００.５"}, one_field("number"))
    assert "全角" in problem.message


@pytest.mark.parametrize("text", ["yes", "no", "on", "off", "True", "FALSE", "1", "y"])
def test_yaml11_booleans_are_not_booleans(text):
    out, problem = only_problem({"v": text}, one_field("boolean"))
    assert out == {"v": text}
    assert problem.code == "yaml-not-boolean"
    assert "true" in problem.message and "false" in problem.message


def test_coerce_problem_line_comes_from_line_map():
    tree, line_map = load(b"a: 1\nlist:\n  - 2\n  - x\n", "a.yaml", lines=True)
    schema = {"properties": {"list": {"items": {"type": "integer"}}}}
    out, problems = coerce(tree, schema, "a.yaml", line_map.__getitem__)
    assert out == {"a": "1", "list": [2, "x"]}
    assert [(p.pointer, p.line, p.code) for p in problems] == [("/list/1", 4, "yaml-not-integer")]
    assert isinstance(problems[0], Problem) and problems[0].severity == "error"


# ---------------------------------------------------------------- line map

def test_line_map_for_nested_mappings_and_lists():
    text = (
        "worker:\n"            # 1
        "  name: 张三\n"        # 2
        "  phone: '0411'\n"     # 3
        "approvals:\n"         # 4
        "  - level: 1\n"        # 5
        "    by: 李四\n"        # 6
        "  -\n"                # 7
        "    level: 2\n"        # 8
        "tags: [a,\n"          # 9
        "  b]\n"               # 10
        "a/b: 1\n"             # 11
        "m~n:\n"               # 12
        "  - - x\n"            # 13
    )
    tree, line_map = load(text.encode(), "a.yaml", lines=True)
    assert tree["m~n"] == [["x"]]
    assert line_map == {
        "": 1,
        "/worker": 1, "/worker/name": 2, "/worker/phone": 3,
        "/approvals": 4, "/approvals/0": 5, "/approvals/0/level": 5, "/approvals/0/by": 6,
        "/approvals/1": 8, "/approvals/1/level": 8,
        "/tags": 9, "/tags/0": 9, "/tags/1": 10,
        "/a~1b": 11,
        "/m~0n": 12, "/m~0n/0": 13, "/m~0n/0/0": 13,
    }


def test_line_map_is_none_without_lines():
    assert load(b"a: 1\n", "a.yaml")[1] is None


# ---------------------------------------------------------------- rejected files

def test_duplicate_key_names_both_lines():
    err = error_of("name: 张三\nphone: '1'\nname: 李四\n")
    assert err.code == "yaml-duplicate-key"
    assert err.line == 3
    assert "name" in err.message and "第 1 行" in err.message and "第 3 行" in err.message
    err = error_of("a:\n  b: 1\n  c: 2\n  b: 3\n", lines=True)
    assert (err.code, err.line) == ("yaml-duplicate-key", 4) and "第 2 行" in err.message


def test_no_and_quoted_no_are_the_same_key():
    assert error_of("no: 1\n'no': 2\n").code == "yaml-duplicate-key"


def test_alias_is_rejected():
    err = error_of("a: 1\nb: *x\n")
    assert (err.code, err.line) == ("yaml-alias", 2)
    assert "*x" in err.message


def test_anchor_alone_is_rejected():
    err = error_of("a: 1\nb: &base\n  c: 2\n")
    assert (err.code, err.line) == ("yaml-anchor", 2)
    assert "&base" in err.message


def test_merge_key_is_rejected():
    err = error_of("a:\n  <<: {b: 1}\n  c: 2\n")
    assert (err.code, err.line) == ("yaml-merge-key", 2)
    assert "<<" in err.message


def test_billion_laughs_is_rejected_fast():
    rows = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        prev, cur = chr(96 + i), chr(97 + i)
        rows.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    data = ("\n".join(rows) + "\n").encode()
    start = time.perf_counter()
    with pytest.raises(YamlError) as info:
        load(data, "a.yaml")
    assert time.perf_counter() - start < 0.5
    assert info.value.code in ("yaml-anchor", "yaml-alias")


def test_aliases_without_anchors_are_rejected_fast():
    data = ("a: [" + ",".join(["*x"] * 9) + "]\n").encode()
    start = time.perf_counter()
    assert error_of(data).code == "yaml-alias"
    assert time.perf_counter() - start < 0.5


def test_self_referencing_alias_is_rejected():
    assert error_of("a: &a [*a]\n").code == "yaml-anchor"
    assert error_of("a: &a {b: *a}\n").code == "yaml-anchor"
    assert error_of("a: [*a]\n").code == "yaml-alias"


def test_alias_as_key_is_rejected():
    assert error_of("*x : 1\n").code == "yaml-alias"


def test_thousand_nested_brackets_are_too_deep():
    err = error_of("a: 1\nb: " + "[" * 1000 + "]" * 1000 + "\n")
    assert (err.code, err.line) == ("yaml-too-deep", 2)
    err = error_of("[" * 1000 + "]" * 1000)
    assert err.code == "yaml-too-deep"
    err = error_of("[" * 100000)
    assert err.code == "yaml-too-deep"


def test_deep_block_nesting_is_too_deep_and_limit_is_configurable():
    data = "a:\n" + "- " * 50000 + "x\n"
    err = error_of(data)
    assert (err.code, err.line) == ("yaml-too-deep", 2)
    nested = "a:\n b:\n  c: 1\n"
    assert load(nested.encode(), "a.yaml", max_depth=3)[0] == {"a": {"b": {"c": "1"}}}
    assert error_of(nested, max_depth=2).code == "yaml-too-deep"
    ok = "a:" + "".join(f"\n{' ' * i}k{i}:" for i in range(1, MAX_DEPTH)) + " x\n"
    load(ok.encode(), "a.yaml")
    deeper = "a:" + "".join(f"\n{' ' * i}k{i}:" for i in range(1, MAX_DEPTH + 1)) + " x\n"
    assert error_of(deeper).code == "yaml-too-deep"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("a: !!binary aGVsbG8=\n", "!!binary"),
        ("a: !!python/object:os.system [ls]\n", "!!python/object:os.system"),
        ("a: !!python/object/apply:os.system ['ls']\n", "!!python/object/apply:os.system"),
        ("a: !!str 0411\n", "!!str"),
        ("a: !custom x\n", "!custom"),
        ("a: ! x\n", "!"),
        ("a: !!map {b: 1}\n", "!!map"),
        ("!!str a: 1\n", "!!str"),
    ],
)
def test_explicit_tags_are_rejected(text, shown):
    err = error_of(text)
    assert (err.code, err.line) == ("yaml-tag", 1)
    assert f"“{shown}”" in err.message


def test_tag_on_root_is_rejected():
    assert error_of("--- !!map\na: 1\n").code == "yaml-tag"


def test_complex_key_is_rejected():
    assert error_of("? [a, b]\n: 1\n").code == "yaml-complex-key"
    assert error_of("{a: 1}: 2\n").code == "yaml-complex-key"


def test_second_document_is_rejected():
    err = error_of("a: 1\n---\nb: 2\n")
    assert (err.code, err.line) == ("yaml-multiple-documents", 2)
    assert load(b"---\na: 1\n...\n", "a.yaml")[0] == {"a": "1"}


def test_size_cap_is_checked_before_parsing():
    data = b"a: " + b"x" * MAX_BYTES + b"\n"
    err = error_of(data)
    assert err.code == "yaml-too-large"
    assert error_of(b"a: 1\n" + b"\xff" * 20, max_bytes=10).code == "yaml-too-large"
    assert load(b"a: 1\n", "a.yaml", max_bytes=5)[0] == {"a": "1"}


def test_gbk_bytes_are_rejected_as_encoding():
    err = error_of("a: 1\n姓名: 张三\n".encode("gbk"))
    assert (err.code, err.line) == ("yaml-encoding", 2)
    assert "UTF-8" in err.message


@pytest.mark.parametrize("data", [b"", b"\n\n", b"# only a comment\n", b"---\n", b"\xef\xbb\xbf"])
def test_empty_file_is_rejected(data):
    assert error_of(data).code == "yaml-empty"


def test_empty_mapping_is_fine():
    assert load(b"{}\n", "a.yaml") == ({}, None)


@pytest.mark.parametrize("text", ["- a\n- b\n", "hello\n", "'0411'\n", "[a: 1]\n"])
def test_root_must_be_a_mapping(text):
    assert error_of(text).code == "yaml-root-not-mapping"


@pytest.mark.parametrize(
    ("text", "line", "word"),
    [
        ("a: b: c\n", 1, "此处不能出现“键: 值”"),
        ("a: 1\nb: [1, 2\nc: 3\n", 3, "YAML 语法错误"),
        ("a: 1\n  b: 2\n", 2, "YAML 语法错误"),
        ("a:\n\tb: 1\n", 2, "Tab"),
        ("a: \"x\\q\"\n", 1, "转义"),
        ("a: 1\x01\n", 1, "控制字符"),
    ],
)
def test_syntax_errors_have_line_and_chinese_message(text, line, word):
    err = error_of(text)
    assert (err.code, err.line) == ("yaml-syntax", line)
    assert "YAML 语法错误" in err.message
    assert word in err.message


def test_unclosed_quote_mentions_where_it_started():
    err = error_of('a: "x\nb: 2\nc: 3\n')
    assert err.code == "yaml-syntax"
    assert "第 1 行开始" in err.message


def test_no_other_exception_escapes():
    for data in (None, 12, object()):
        with pytest.raises(YamlError) as info:
            load(data, "a.yaml")
        assert info.value.code == "yaml-syntax"


def test_error_problem_value():
    err = error_of("a: 1\na: 2\n")
    p = err.problem()
    assert p == Problem("a.yaml", 2, "", "yaml-duplicate-key", err.message)
    assert (err.path, err.line, err.code) == ("a.yaml", 2, "yaml-duplicate-key")
    assert str(err).startswith("a.yaml:2:")
