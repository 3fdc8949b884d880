"""Statistical disclosure control for the public statistics: small numbers below district level
are hidden, and so is whatever would give them back.

In a factory union with a handful of applicants, "1 child of a single mother" names the family.
So in every public table (the site's pages and its CSV and .xlsx downloads):

1. Primary suppression: a grassroots union's (企业、街道工会) count of a sensitive item that is
   above 0 and under the threshold (3, or the campaign's ``disclosure_threshold``) is hidden.
2. Families: the lines of an item hang together (04A = 04B + 04C + 04D; each count has its
   amount, from which the count follows by the standard amount), so when one line of a family is
   hidden in a union's column, the whole family is hidden there.
3. Complementary suppression: a union's figure is the sum of those of the unions below it (and its
   own), so a hidden figure would come back as the parent's minus its other children's. Whenever
   exactly one child of a parent has a family hidden, the family is hidden for one more child too
   (the one with the smallest non-zero count, else the smallest); a parent with a single child
   hides its own figure too, and so on up to the district and industry unions. The city's figures
   are always shown: they are the sum of everything and identify no one.

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


def threshold_of(campaign: dict) -> int:
    value = campaign.get("disclosure_threshold", DEFAULT_THRESHOLD)
    return value if isinstance(value, int) and value >= 1 else DEFAULT_THRESHOLD


def _family_size(values: dict, family: tuple) -> int:
    return max(int(values[k]) for k in family if k in COUNT_KEYS)


def _smallest(candidates: list, tables: dict, family: tuple) -> str:
    """The complement to hide: the smallest non-zero figure (it hides the most while giving the
    least away), else the smallest; ties by id, so that every build hides the same cells."""
    nonzero = [c for c in candidates if _family_size(tables[c].values, family) > 0]
    return min(nonzero or candidates, key=lambda c: (_family_size(tables[c].values, family), c))


def suppress(tables: dict, units: dict, level_of: dict, threshold: int = DEFAULT_THRESHOLD) -> dict:
    """unit id -> the set of keys hidden in that union's public column.

    tables: unit id -> StatisticsTable (values include everything below the union); level_of:
    unit id -> 3 city, 2 district or industry, 1 grassroots."""
    hidden: dict[str, set] = {uid: set() for uid in tables}
    kids: dict[str, list] = {uid: [] for uid in tables}
    for uid in tables:
        parent = units.get(uid, {}).get("parent")
        if parent in kids:
            kids[parent].append(uid)
    for family in FAMILIES:
        fam = set(family)
        hid = {uid for uid, t in tables.items()
               if level_of.get(uid, 1) == GRASSROOTS_LEVEL and any(0 < int(t.values[k]) < threshold for k in family if k in COUNT_KEYS)}
        changed = True
        while changed:
            changed = False
            for parent, children in kids.items():
                if not children:
                    continue
                inside = [c for c in children if c in hid]
                others = [c for c in children if c not in hid]
                if parent in hid:
                    if not inside:  # else the hidden parent is the sum of its shown children
                        hid.add(_smallest(others, tables, family))
                        changed = True
                    continue
                if len(inside) != 1:
                    continue
                if others:
                    hid.add(_smallest(others, tables, family))
                    changed = True
                elif level_of.get(parent, 3) < 3:
                    hid.add(parent)  # its only child: the parent's figure is the same number
                    changed = True
        for uid in hid:
            hidden[uid] |= fam
    return hidden
