"""Statistical disclosure control for the public statistics: small numbers below district level
are hidden, and so is whatever would give them back.

In a factory union with a handful of applicants, "1 child of a single mother" names the family.
So in every public table (the site's pages and its CSV and .xlsx downloads):

1. Primary suppression: a grassroots union's (企业、街道工会) count of a sensitive item that is
   above 0 and under the threshold (3, or the campaign's ``disclosure_threshold``) is hidden.
2. Families: the lines of an item hang together (04A = 04B + 04C + 04D; each count has its
   amount, from which the count follows by the standard amount), so when one line of a family is
   hidden in a union's column, the whole family is hidden there.
3. Complementary suppression: a union's figure is the sum of those of the unions below it (a
   district's or industry union's own records are none: applications and graduates are filed by
   grassroots unions), so a hidden figure would come back as the parent's minus its other
   children's. Whenever exactly one child of a parent has a family hidden, the family is hidden
   for one more child too (the one with the smallest non-zero count, else the smallest); a parent
   with a single child hides its own figure too, and so on up to the district and industry unions.
4. No figure a reader already knows is a complement, and none is hidden: a sensitive figure whose
   public bound is 0 is 0 (04 ≤ 03 and its amount ≤ 02 by stage, 05 ≤ 03A, 15A ≤ 06B, 16A ≤ 06C,
   a count is 0 when its amount is, and the reverse), so it is shown as 0; a union with no
   applications at all (its 0 on the progress page and in item 03) never stands in for a hidden 1.
5. Then the published figures are solved as a linear system (`determined`): every hidden figure
   whose value follows from the shown ones (the sums between a union and those below it, the sums
   of a family's lines, the figures known to be 0, and a hidden group whose published total is 0,
   all of whose members are then 0) is made undetermined by hiding one more figure beside it in
   one of those sums, until none is determined. The city's figures are shown unless nothing else
   can protect a hidden one (a city with a single district that has a single union).

The sensitive items are those that tell something about a family beyond having received the aid
(the 公示 already says that much): 04 困难农民工子女 (the parent's migrant-worker status and its
amounts), 05 困难单亲女职工子女 (a single mother), 11C 小额担保贷款 (a loan taken and its sum),
15A and 16A (a graduate who has not found work). Counts of aided children by stage (03), the
services of 06–14 and the unions' own funds and fairs are not about one family's circumstances
and stay as they are.

The city's and the districts' full tables stay in the private outputs (private/forms, `export
--statistics`); this module only decides which public cells are hidden.
"""

from __future__ import annotations

DEFAULT_THRESHOLD = 3
HIDDEN = "*"  # what a hidden cell shows
NOTE = ("标 * 的数字不公开：为保护个人隐私，基层工会少于 {n} 人的敏感项目（困难农民工子女、单亲女职工子女、"
        "小额担保贷款、未就业毕业生），以及可据以推算出这些数字的其他数字，均不在公开网站和下载文件中显示。"
        "完整的统计表只报送上级工会。")

# Each family: the keys that stand or fall together; the first is the count tested for smallness.
FAMILIES = [
    ("04A", "04A_amount", "04B", "04B_amount", "04C", "04C_amount", "04D", "04D_amount"),
    ("05A", "05A_amount"),
    ("11C", "11C_amount"),
    ("15A",),
    ("16A",),
]
COUNT_KEYS = {"04A", "04B", "04C", "04D", "05A", "11C", "15A", "16A"}
SENSITIVE = {k for family in FAMILIES for k in family}
GRASSROOTS_LEVEL = 1


# A public figure that bounds a sensitive one from above: when it is 0, so is the sensitive one.
BOUNDS = {"04A": "03A", "04B": "03B", "04C": "03C", "04D": "03D",
          "04A_amount": "02A", "04B_amount": "02B", "04C_amount": "02C", "04D_amount": "02D",
          "05A": "03A", "05A_amount": "02A", "15A": "06B", "16A": "06C"}
# A count and its amount: one is 0 exactly when the other is.
PAIRS = {"04A": "04A_amount", "04B": "04B_amount", "04C": "04C_amount", "04D": "04D_amount",
         "05A": "05A_amount", "11C": "11C_amount"}
PAIRS.update({v: k for k, v in list(PAIRS.items())})
# The lines of a family that add up: total = parts (each a count, and the same for amounts).
FAMILY_SUMS = {"04A": ("04B", "04C", "04D"), "04A_amount": ("04B_amount", "04C_amount", "04D_amount")}
CITY_LEVEL = 3


def threshold_of(campaign: dict) -> int:
    value = campaign.get("disclosure_threshold", DEFAULT_THRESHOLD)
    return value if isinstance(value, int) and value >= 1 else DEFAULT_THRESHOLD


def known_zero(values: dict, key: str) -> bool:
    """Does a reader know this sensitive figure is 0 from the shown ones (its bound is 0, or its
    pair's bound is)?"""
    for k in (key, PAIRS.get(key)):
        if k is not None and k in BOUNDS and values[BOUNDS[k]] == 0:
            return True
    return False


def _family_size(values: dict, family: tuple) -> int:
    return max(int(values[k]) for k in family if k in COUNT_KEYS)


def _smallest(candidates: list, tables: dict, family: tuple) -> str:
    """The complement to hide: the smallest non-zero figure (it hides the most while giving the
    least away), else the smallest; ties by id, so that every build hides the same cells."""
    nonzero = [c for c in candidates if _family_size(tables[c].values, family) > 0]
    return min(nonzero or candidates, key=lambda c: (_family_size(tables[c].values, family), c))


def _children(tables: dict, units: dict) -> dict:
    kids: dict[str, list] = {uid: [] for uid in tables}
    for uid in tables:
        parent = units.get(uid, {}).get("parent")
        if parent in kids:
            kids[parent].append(uid)
    return kids


def equations(family: tuple, tables: dict, kids: dict) -> list[tuple[dict, object]]:
    """The published linear relations between a family's figures: ({(unit, key): coefficient}, 0)
    for every union with unions below it (its figure minus theirs) and every family sum."""
    rows = []
    for parent, children in kids.items():
        if children:
            for key in family:
                rows.append(({(parent, key): 1, **{(c, key): -1 for c in children}}, 0))
    for total, parts in FAMILY_SUMS.items():
        if total in family:
            for uid in tables:
                rows.append(({(uid, total): 1, **{(uid, p): -1 for p in parts}}, 0))
    return rows


def determined(rows: list, hidden: set, value_of) -> set:
    """The hidden cells whose value follows from the shown ones: rows are ({cell: coefficient},
    constant) meaning sum = constant; a shown cell's value_of(cell) is known. A cell is determined
    when its unit vector lies in the row space of the rows restricted to hidden cells (exact, with
    fractions), or when it is in a row whose hidden cells all have one sign and add up to 0 (counts
    and amounts are never negative); each determined cell is then known, until nothing changes."""
    from fractions import Fraction

    known: dict = {}
    while True:
        reduced = []
        for coefs, const in rows:
            rest, c = {}, Fraction(const)
            for cell, a in coefs.items():
                if cell in hidden and cell not in known:
                    rest[cell] = Fraction(a)
                else:
                    c -= a * (known[cell] if cell in known else Fraction(value_of(cell)))
            if rest:
                reduced.append((rest, c))
        found = {}
        for rest, c in reduced:  # a group of non-negative figures adding up to 0
            if c == 0 and (all(a > 0 for a in rest.values()) or all(a < 0 for a in rest.values())):
                found.update(dict.fromkeys(rest, Fraction(0)))
        found.update(_solved(reduced))
        if not found:
            return set(known)
        known.update(found)


def _solved(rows: list) -> dict:
    """{cell: value} of every cell the rows fix (reduced row echelon form, exact)."""
    pivots: list = []  # (cell, {cell: coefficient}, constant), each row normalised on its pivot
    for coefs, const in rows:
        row, c = dict(coefs), const
        for cell, prow, pc in pivots:
            a = row.pop(cell, 0)
            if a:
                for k, v in prow.items():
                    if k != cell:
                        row[k] = row.get(k, 0) - a * v
                        if row[k] == 0:
                            del row[k]
                c -= a * pc
        if not row:
            continue
        cell = min(row, key=str)
        a = row[cell]
        row = {k: v / a for k, v in row.items()}
        c = c / a
        for i, (pcell, prow, pc) in enumerate(pivots):  # keep earlier rows reduced on the new pivot
            b = prow.get(cell, 0)
            if b:
                new = {k: prow.get(k, 0) - b * row.get(k, 0) for k in set(prow) | set(row)}
                pivots[i] = (pcell, {k: v for k, v in new.items() if v != 0}, pc - b * c)
        pivots.append((cell, row, c))
    return {cell: c for cell, row, c in pivots if len(row) == 1}


def suppress(tables: dict, units: dict, level_of: dict, threshold: int = DEFAULT_THRESHOLD) -> dict:
    """unit id -> the set of keys hidden in that union's public column.

    tables: unit id -> StatisticsTable (values include everything below the union); level_of:
    unit id -> 3 city, 2 district or industry, 1 grassroots."""
    hidden: dict[str, set] = {uid: set() for uid in tables}
    kids = _children(tables, units)
    parent_of = {c: p for p, cs in kids.items() for c in cs}
    for family in FAMILIES:
        fam = set(family)
        known = {(uid, k) for uid, t in tables.items() for k in family if known_zero(t.values, k)}

        def open_keys(uid):
            return {k for k in family if (uid, k) not in known}

        def eligible(uid, wanted=None):
            keys = open_keys(uid)
            return bool(keys and (wanted is None or keys & wanted))

        hid = {uid for uid, t in tables.items()
               if level_of.get(uid, 1) == GRASSROOTS_LEVEL and any(0 < int(t.values[k]) < threshold for k in family if k in COUNT_KEYS)}
        changed = True
        while changed:
            changed = False
            for parent, children in kids.items():
                if not children:
                    continue
                inside = [c for c in children if c in hid]
                others = [c for c in children if c not in hid and eligible(c)]
                if parent in hid:
                    if not inside and others:  # else the hidden parent is the sum of its shown children
                        hid.add(_smallest(others, tables, family))
                        changed = True
                    continue
                if len(inside) != 1:
                    continue
                wanted = open_keys(inside[0])
                partners = [c for c in others if eligible(c, wanted)]
                if partners:
                    hid.add(_smallest(partners, tables, family))
                    changed = True
                elif level_of.get(parent, CITY_LEVEL) < CITY_LEVEL and eligible(parent):
                    hid.add(parent)  # its only child (or the only one not known to be 0): the same number
                    changed = True
        rows = equations(family, tables, kids)
        while True:  # 5: solve what is published; widen until nothing hidden follows from it
            cells = {(uid, k) for uid in hid for k in open_keys(uid)}
            fixed = determined(rows, cells, lambda cell: tables[cell[0]].values[cell[1]])
            if not fixed:
                break
            more = _widen(fixed, hid, tables, kids, parent_of, level_of, family, eligible)
            if more is None:
                raise AssertionError(f"no complementary cell can protect {sorted(fixed)[:3]}")  # every figure hidden: cannot happen
            hid.add(more)
        for uid in hid:
            hidden[uid] |= open_keys(uid) & fam
    return hidden


def _widen(fixed: set, hid: set, tables: dict, kids: dict, parent_of: dict, level_of: dict, family: tuple, eligible):
    """One more union to hide the family in, beside a determined cell: a shown union in a sum with
    it (a sibling, a child, the parent), the city last."""
    for uid, key in sorted(fixed):
        near = []
        parent = parent_of.get(uid)
        if parent is not None:
            near += [c for c in kids[parent] if c != uid] + [parent]
        near += kids.get(uid, [])
        near = [v for v in near if v not in hid and eligible(v, {key})]
        lower = [v for v in near if level_of.get(v, 1) < CITY_LEVEL]
        if lower:
            return _smallest(lower, tables, family)
        if near:
            return near[0]
    for uid in sorted(tables):  # nothing beside them: any union still shown
        if uid not in hid and eligible(uid):
            return uid
    return None
