"""`build.py show FILE`: a sealed record opened on this machine with one's own key (never sent anywhere)."""

from __future__ import annotations

from pathlib import Path

from ..problems import UserError
from ..records import dataset as ds
from ..records import sealed, yamlwrite
from .common import add_data_argument, data_dir

HELP = "在本机用本人密钥解密显示一份加密保存的申请（审批前看全部内容；不上传任何地方）；也可让 git 在本机显示解密后的改动"


def add_arguments(p) -> None:
    add_data_argument(p)
    p.add_argument("path", metavar="文件", help="记录文件（数据目录中的路径，或 git 显示改动时给出的临时文件）")
    from .keys import add_key_arguments

    add_key_arguments(p)


def run(args, out, err) -> int:
    from ..records import layout, yamlstrict
    from .keys import opener, pointers_of

    root = data_dir(args)
    path = Path(args.path)
    prefix = args.data.rstrip("/") + "/"
    rel = args.path[len(prefix):] if args.path.startswith(prefix) else args.path
    raw = path.read_bytes() if path.is_file() else ds.read_bytes(root, rel) if (root / rel).is_file() else None
    if raw is None:
        raise UserError(f"文件 {args.path} 不存在")
    try:
        tree, _ = yamlstrict.load(raw, args.path)
    except yamlstrict.YamlError as exc:
        raise UserError(exc.problem().text()) from None
    kind = "graduate" if isinstance(tree, dict) and "graduate" in tree else "application"
    data, _ = yamlstrict.coerce(tree, layout.schema_for(kind, tree), args.path, lambda p: 1)
    if not sealed.is_sealed(data):
        out.write(raw.decode("utf-8", errors="replace"))
        return 0
    o = opener(args, root, "解密显示")
    try:
        clear = o.open(data, pointers_of(data))
    except sealed.SealError as exc:
        err.write(f"{args.path}: {exc}\n")
        return 1
    out.write(yamlwrite.dump(clear, kind))
    return 0
