"""The command line: it only wires the stages together; every command lives in its own module."""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from .problems import UserError

# command name -> module in jinqiu.commands; each module has HELP, add_arguments(parser) and
# run(args, out, err) -> int.  `build` is what `python build.py` with no command runs.
COMMANDS = {
    "validate": "validate",
    "new": "new",
    "import": "importer",
    "export": "export",
    "renewals": "renewals",
    "fmt": "fmt",
    "verify": "verify",
    "approve": "approve",
    "pay": "pay",
    "codeowners": "codeowners",
    "demo": "demo",
    "units": "units",
    "todo": "todo",
    "history": "history",
    "seal": "seal",
    "show": "show",
    "check-sealed": "checksealed",
    "keys": "keys",
    "shred": "shred",
    "tags": "tags",
    "init-city": "initcity",
    "migrate": "migrate",
    "upgrade": "upgrade",
    "build": "build",
}
DEFAULT_COMMAND = "build"


class _Formatter(argparse.HelpFormatter):
    """argparse's help, with its few fixed words in Chinese."""

    def add_usage(self, usage, actions, groups, prefix=None):
        return super().add_usage(usage, actions, groups, "用法：" if prefix is None else prefix)


# argparse's error messages (Python 3.11 wording) -> Chinese. Names of options, commands and
# choices are the user's own words or code, and stay as they are.
_ERRORS = (
    (r"^argument (?P<arg>\S+?): (?P<rest>.*)$", lambda m: f"{m['arg']}：{_zh_error(m['rest'])}"),
    (r"^the following arguments are required: (?P<args>.*)$", lambda m: f"缺少必需的参数：{m['args'].replace(', ', '、')}"),
    (r"^one of the arguments (?P<args>.*) is required$", lambda m: f"须给出其中一个参数：{m['args']}"),
    (r"^unrecognized arguments: (?P<args>.*)$", lambda m: f"不认识的参数：{m['args']}"),
    (r"^invalid choice: (?P<v>.*) \(choose from (?P<c>.*)\)$", lambda m: f"没有 {m['v']} 这一项；可选：{m['c']}"),
    (r"^invalid (?P<t>\S+) value: (?P<v>.*)$", lambda m: f"{m['v']} 不是{_TYPE_NAMES.get(m['t'], '有效的值')}"),
    (r"^expected one argument$", lambda m: "后面须跟一个值"),
    (r"^expected at most one argument$", lambda m: "后面最多跟一个值"),
    (r"^expected at least one argument$", lambda m: "后面至少跟一个值"),
    (r"^expected (?P<n>\d+) arguments?$", lambda m: f"后面须跟 {m['n']} 个值"),
    (r"^not allowed with argument (?P<a>.*)$", lambda m: f"不能与 {m['a']} 同时使用"),
    (r"^ambiguous option: (?P<o>\S+) could match (?P<m>.*)$", lambda m: f"{m['o']} 不明确，可能是 {m['m']}"),
    (r"^ignored explicit argument (?P<a>.*)$", lambda m: f"这个选项不带值，{m['a']} 被忽略"),
)
_TYPE_NAMES = {"int": "整数", "float": "数字"}
_METAVARS = {"year": "年度", "opinion": "意见", "out": "目录", "data": "目录", "date": "日期", "unit": "工会",
             "file": "文件", "paths": "文件", "limit": "数量", "today": "日期"}


def _zh_error(message: str) -> str:
    import re

    for pattern, render in _ERRORS:
        m = re.match(pattern, message, re.S)
        if m:
            return render(m)
    return message


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser that speaks Chinese: usage, section titles, -h and every usage error."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", _Formatter)
        kwargs["add_help"] = False
        super().__init__(*args, **kwargs)
        self._positionals.title = "参数"
        self._optionals.title = "选项"
        self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS, help="显示本帮助并退出")

    def add_argument(self, *args, **kwargs):
        """An option's value is shown by a Chinese name (argparse would show its dest in capitals)."""
        if "metavar" not in kwargs and "choices" not in kwargs and kwargs.get("action") in (None, "store", "append"):
            dest = kwargs.get("dest") or next((a for a in args if a.startswith("--")), args[0]).lstrip("-").replace("-", "_")
            kwargs["metavar"] = _METAVARS.get(dest, "值")
        return super().add_argument(*args, **kwargs)

    def error(self, message):  # usage errors exit 2 with one line, in Chinese
        self.print_usage(sys.stderr)
        sys.stderr.write(f"{self.prog}: 用法错误：{_zh_error(message)}\n")
        raise SystemExit(2)


def parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole command line; with `only`, that command's module alone is imported (a start-up
    of 0.1 s instead of 0.6 s): the others are named, so that usage lists them, but never parsed."""
    top = _Parser(prog="build.py", description="金秋助学：校验数据、核验审批、生成公开网站和表格。")
    sub = top.add_subparsers(dest="command", metavar="命令", parser_class=_Parser)
    for name, module_name in COMMANDS.items():
        if only is not None and name != only:
            sub.add_parser(name)
            continue
        module = importlib.import_module(f"jinqiu.commands.{module_name}")
        p = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(_module=module)
    return top


def main(argv=None, out=None, err=None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0].startswith("-") and argv[0] not in ("-h", "--help"):
        argv.insert(0, DEFAULT_COMMAND)
    try:
        args = parser(argv[0] if argv[0] in COMMANDS else None).parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    try:
        return args._module.run(args, out, err)
    except KeyboardInterrupt:
        err.write("已中断。\n")
        return 130
    except BrokenPipeError:  # the output went to a command that stopped reading (| head)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except UserError as exc:
        err.write(f"错误：{exc}\n")
        return 2
