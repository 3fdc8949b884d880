"""A reader's attack on the published statistics, written apart from jinqiu.publish.disclosure: take
the public CSV (every union's column of 附件3, hidden figures as *) and the union tree, write down
every linear relation a reader knows between the figures, and solve for each hidden one.

What the reader knows (and uses):
- a union's figure is the sum of the figures of the unions directly below it (districts and
  industry unions file no applications or graduates of their own; grassroots unions have none below);
- a family's lines add up: 04A = 04B + 04C + 04D, and the same for their amounts;
- a sensitive figure is 0 when its public bound is (04B ≤ 03B and 04B's amount ≤ 02B by stage,
  05A ≤ 03A, 15A ≤ 06B, 16A ≤ 06C), and a count is 0 exactly when its amount is;
- figures are never negative, so hidden figures whose known total is 0 are all 0.

A hidden figure is determined when its unit vector lies in the row space of these relations
(restricted to the hidden figures; exact arithmetic with fractions), or it is in a group of
same-sign figures adding up to 0; determined figures are then known, and the search goes on until
nothing more is found."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import yaml

SENSITIVE = ["04A", "04A_amount", "04B", "04B_amount", "04C", "04C_amount", "04D", "04D_amount",
             "05A", "05A_amount", "11C", "11C_amount", "15A", "16A"]
UPPER = {"04A": "03A", "04B": "03B", "04C": "03C", "04D": "03D", "04A_amount": "02A", "04B_amount": "02B",
         "04C_amount": "02C", "04D_amount": "02D", "05A": "03A", "05A_amount": "02A", "15A": "06B", "16A": "06C"}
AMOUNT_OF = {"04A": "04A_amount", "04B": "04B_amount", "04C": "04C_amount", "04D": "04D_amount",
             "05A": "05A_amount", "11C": "11C_amount"}
ADD_UP = [("04A", ["04B", "04C", "04D"]), ("04A_amount", ["04B_amount", "04C_amount", "04D_amount"])]


def read_published(csv_path: Path) -> dict:
    """{(unit id, key): Fraction, or None when shown as *} from the published CSV."""
    rows = list(csv.reader(io.StringIO(csv_path.read_text(encoding="utf-8-sig"))))
    units = [h.rsplit("（", 1)[1].rstrip("）") for h in rows[0][2:]]
    out = {}
    for row in rows[1:]:
        if not row or not row[0]:
            continue
        for uid, text in zip(units, row[2:]):
            out[(uid, row[0])] = None if text == "*" else Fraction(Decimal(text))
    return out


def units_of(units_yaml: Path) -> dict:
    """unit id -> its parent (None for the city), as units.yaml (published: names and levels) says."""
    return {u["id"]: u.get("parent") for u in yaml.safe_load(units_yaml.read_text(encoding="utf-8"))["units"]}


def relations(cells: dict, parents: dict) -> list[tuple[dict, Fraction]]:
    """Every relation a reader knows, as ({(unit, key): coefficient}, constant): sum = constant."""
    units = {uid: {"parent": p} for uid, p in parents.items()}
    below: dict = {}
    for uid, u in units.items():
        if u.get("parent"):
            below.setdefault(u["parent"], []).append(uid)
    rows = []
    for parent, children in below.items():
        for key in SENSITIVE:
            rows.append(({(parent, key): 1, **{(c, key): -1 for c in children}}, Fraction(0)))
    for uid in units:
        for total, parts in ADD_UP:
            rows.append(({(uid, total): 1, **{(uid, p): -1 for p in parts}}, Fraction(0)))
        for key, bound in UPPER.items():
            if cells[(uid, bound)] == 0:
                rows.append(({(uid, key): 1}, Fraction(0)))
        for count, amount in AMOUNT_OF.items():
            for a, b in ((count, amount), (amount, count)):
                if cells[(uid, a)] == 0:
                    rows.append(({(uid, b): 1}, Fraction(0)))
    return rows


def _in_row_space(basis: list, target: dict) -> bool:
    """basis: reduced rows [(pivot, {var: coefficient})]; is target a combination of them?"""
    rest = dict(target)
    for pivot, row in basis:
        a = rest.get(pivot, 0)
        if a:
            for k, v in row.items():
                rest[k] = rest.get(k, 0) - a * v
                if rest[k] == 0:
                    del rest[k]
    return not rest


def _basis(rows: list) -> list:
    basis = []
    for row in rows:
        row = dict(row)
        for pivot, prow in basis:
            a = row.get(pivot, 0)
            if a:
                for k, v in prow.items():
                    row[k] = row.get(k, 0) - a * v
                    if row[k] == 0:
                        del row[k]
        if row:
            pivot = sorted(row, key=str)[0]
            a = row[pivot]
            row = {k: Fraction(v) / a for k, v in row.items()}
            basis = [(p, _eliminate(r, pivot, row)) for p, r in basis]
            basis.append((pivot, row))
    return basis


def _eliminate(row: dict, pivot, by: dict) -> dict:
    a = row.get(pivot, 0)
    if not a:
        return row
    out = dict(row)
    for k, v in by.items():
        out[k] = out.get(k, 0) - a * v
        if out[k] == 0:
            del out[k]
    return out


def determined(cells: dict, rows: list) -> set:
    """The hidden cells a reader can solve for."""
    known = {c: v for c, v in cells.items() if v is not None}
    hidden = {c for c, v in cells.items() if v is None}
    solved: set = set()
    while True:
        reduced = []
        for coefs, const in rows:
            rest, c = {}, const
            for cell, a in coefs.items():
                if cell in known:
                    c -= a * known[cell]
                else:
                    rest[cell] = Fraction(a)
            if rest:
                reduced.append((rest, c))
        new = set()
        for rest, c in reduced:  # never negative: a same-sign group adding up to 0 is all 0
            if c == 0 and len({a > 0 for a in rest.values()}) == 1:
                new |= set(rest)
        basis = _basis([rest for rest, _ in reduced])
        new |= {cell for cell in hidden - set(known) if _in_row_space(basis, {cell: 1})}
        new -= set(known)
        if not new:
            return solved
        solved |= new
        # its value: solve again with the cell known (any value consistent with the rows will do for
        # the search; take it from the row space by solving the system exactly)
        values = _solve(reduced, new)
        known.update(values)


def _solve(reduced: list, cells: set) -> dict:
    """Values of the given (determined) cells from the reduced rows."""
    aug = []
    for rest, c in reduced:
        row = dict(rest)
        row["="] = c
        aug.append(row)
    basis = []
    for row in aug:
        row = dict(row)
        for pivot, prow in basis:
            a = row.get(pivot, 0)
            if a:
                for k, v in prow.items():
                    row[k] = row.get(k, 0) - a * v
                    if row[k] == 0 and k != "=":
                        del row[k]
        variables = [k for k in row if k != "="]
        if variables:
            pivot = sorted(variables, key=str)[0]
            a = row[pivot]
            row = {k: Fraction(v) / a for k, v in row.items()}
            basis = [(p, _eliminate(r, pivot, row)) for p, r in basis]
            basis.append((pivot, row))
    out = {}
    for pivot, row in basis:
        if pivot in cells and all(k in (pivot, "=") for k in row):
            out[pivot] = row.get("=", Fraction(0))
    for cell in cells - set(out):  # a zero-sum group's members
        out[cell] = Fraction(0)
    return out


def attack(site: Path, data: Path, year: int) -> tuple[int, set]:
    """(how many figures are hidden, those a reader can solve for) in a built site."""
    cells = read_published(site / "downloads" / f"statistics-{year}.csv")
    hidden = {c for c, v in cells.items() if v is None}
    assert all(key in SENSITIVE for _, key in hidden), "only sensitive figures are ever hidden"
    sensitive = {c: v for c, v in cells.items() if c[1] in SENSITIVE}
    shown_bounds = {c: v for c, v in cells.items() if c[1] not in SENSITIVE}
    rows = relations({**sensitive, **shown_bounds}, units_of(data / "units.yaml"))
    return len(hidden), determined(sensitive, rows)


def attack_tables(tables: dict, parents: dict, hidden: dict) -> set:
    """The same attack on figures not yet written out: tables (unit id -> object with .values), the
    keys hidden per union (disclosure.suppress)."""
    cells = {(uid, key): (None if key in hidden.get(uid, ()) else Fraction(Decimal(str(t.values[key]))))
             for uid, t in tables.items() for key in t.values}
    sensitive = {c: v for c, v in cells.items() if c[1] in SENSITIVE}
    return determined(sensitive, relations(cells, parents))
