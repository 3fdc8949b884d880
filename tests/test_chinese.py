"""Everything build.py says to a person is Chinese (issue 10, item 11): every command's --help,
usage errors, and the YAML parser's messages."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from chinese import english_words

from jinqiu import cli
from jinqiu.records import yamlstrict

ROOT = Path(__file__).resolve().parent.parent


def build(*args, cwd=None):
    proc = subprocess.run([sys.executable, str(ROOT / "build.py"), *map(str, args)], capture_output=True, text=True,
                          cwd=cwd or ROOT)
    return proc.returncode, proc.stdout, proc.stderr


def test_the_leak_finder_finds_argparse_english():
    assert english_words("usage: build.py validate [-h]\n\npositional arguments:\n  options:") == \
        ["usage", "positional", "arguments", "options"]
    assert english_words("build.py: error: the following arguments are required: --unit") == \
        ["error", "the", "following", "arguments", "are", "required"]
    assert english_words("data/applications/2011/dl-zs-0001/2011-dl-zs-0001-001.yaml:3: error: “单位”dl-zs 不对") == []


@pytest.mark.parametrize("command", [None, *cli.COMMANDS])
def test_every_help_is_chinese(command):
    code, out, err = build(*([command] if command else []), "--help")
    assert code == 0, err
    assert out.startswith("用法：")
    assert "选项" in out
    assert english_words(out + err) == [], out


@pytest.mark.parametrize("args", [
    ["validate", "--format", "xml"],
    ["import"],
    ["import", "a.xlsx", "--unit"],
    ["new", "application", "--year", "二〇一一", "--unit", "dl"],
    ["new", "nonsense", "--unit", "dl", "--year", "2011"],
    ["export", "--bogus"],
    ["no-such-command"],
    ["renewals"],
    ["verify", "--format"],
    ["approve", "--date"],
])
def test_usage_errors_are_chinese(args):
    code, out, err = build(*args)
    assert code == 2
    assert "Traceback" not in err and "用法：" in err and "用法错误：" in err
    typed = {w for a in args for w in re.findall(r"[A-Za-z]+", a)}  # the user's own words are quoted back
    assert english_words(out + err, typed) == [], err


def test_user_errors_are_chinese(tmp_path):
    for args in (["validate", "--data", tmp_path / "none"], ["export", "--unit", "某某工会"], ["import", tmp_path / "x.xlsx", "--unit", "dl"]):
        code, out, err = build(*args)
        assert code == 2 and "错误：" in err, args
        assert english_words(out + err) == [], err


@pytest.mark.parametrize("text", [
    b'worker:\n  name: "unterminated\n', b"a: [1, 2\n", b"a: {b: 1\n", b"a:\n\tb: 1\n", b"a: b: c\n", b"- a\nb: 1\n",
    b"a: 'x\n", b'a: "\\q"\n', b"a: @x\n", b"a: 1\n---\nb: 2\n", b"key: value\n  bad indent: 1\n",
])
def test_yaml_syntax_errors_are_chinese(text):
    with pytest.raises(yamlstrict.YamlError) as caught:
        yamlstrict.load(text, "data/x.yaml")
    message = caught.value.message
    assert "第" in message
    assert english_words(message) == [], message
