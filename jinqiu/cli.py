"""The command line: it only wires the stages together; every command lives in its own module."""

from __future__ import annotations

import argparse
import importlib
import os
import sys

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
    "codeowners": "codeowners",
    "demo": "demo",
    "build": "build",
}
DEFAULT_COMMAND = "build"


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # usage errors exit 2 with one line, in Chinese
        self.print_usage(sys.stderr)
        sys.stderr.write(f"{self.prog}: 用法错误：{message}\n")
        raise SystemExit(2)


def parser() -> argparse.ArgumentParser:
    top = _Parser(prog="build.py", description="金秋助学：校验数据、核验审批、生成公开网站和表格。")
    sub = top.add_subparsers(dest="command", metavar="命令", parser_class=_Parser)
    for name, module_name in COMMANDS.items():
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
        args = parser().parse_args(argv)
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


class UserError(Exception):
    """A mistake in how the command was called (a missing directory, a bad option value)."""
