"""A union as a clerk types it: its code (dl-zs-0003) or its name (大连市中山区总工会), one lookup.

Clerks know their union's name, not its code; reviewers and scripts use codes. Everywhere a person
types a union (an option, a sheet's 单位 or 资助单位 column) either works. What is accepted is
certain, never a guess: the code (in any letter case), the name exactly (full-width characters and
spaces aside), the name without the city's place name in front (中山区总工会 for 大连市中山区总工会
when the city is 大连市总工会), and 市总工会 / 市总 for the city federation. Anything else is
unknown, and the message lists the nearest names and codes so the clerk can pick one.
"""

from __future__ import annotations

import difflib
import re
import unicodedata

# a union's level in the approval chain, by its kind (3: the city federation)
UNIT_LEVEL = {"city": 3, "district": 2, "county_city": 2, "county": 2, "industry": 2, "enterprise": 1, "street": 1}


def descendants(units: dict, top: str) -> set[str]:
    """A union and every union below it."""
    children: dict = {}
    for uid, u in units.items():
        children.setdefault(u.get("parent"), []).append(uid)
    out, todo = set(), [top]
    while todo:
        u = todo.pop()
        if u not in out:
            out.add(u)
            todo.extend(children.get(u, ()))
    return out


LEVEL_NAMES = {3: "市总工会", 2: "区市县、产业工会", 1: "基层工会"}
KIND_NAMES = {"city": "市总工会", "district": "区总工会", "county_city": "县级市总工会", "county": "县总工会",
              "industry": "产业工会", "enterprise": "企业工会", "street": "街道工会"}


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text))).lower()


class UnknownUnit(ValueError):
    """A union that is neither a code nor a name in units.yaml (the message lists the nearest)."""


class UnitIndex:
    """Look unions up by code or by name."""

    def __init__(self, units: dict):
        self.units = units
        self._by_key: dict[str, set] = {}
        cities = [uid for uid, u in units.items() if u.get("kind") == "city"]
        place = ""
        if len(cities) == 1:
            city_name = _norm(units[cities[0]].get("name", ""))
            place = city_name[: -len("总工会")] if city_name.endswith("总工会") else ""
            for alias in ("市总工会", "市总"):
                self._add(alias, cities[0])
        for uid, u in units.items():
            self._add(uid, uid)
            name = _norm(u.get("name", ""))
            if name:
                self._add(name, uid)
                for prefix in {place, place.rstrip("市")} - {""}:
                    if name.startswith(prefix) and len(name) > len(prefix) + 2:
                        self._add(name[len(prefix):], uid)

    def _add(self, key: str, uid: str) -> None:
        self._by_key.setdefault(_norm(key), set()).add(uid)

    def resolve(self, text: str) -> str:
        """The code of the union the text names; UnknownUnit (with the nearest) when none or several."""
        text = str(text).strip()
        if text in self.units:
            return text
        found = self._by_key.get(_norm(text), set())
        if len(found) == 1:
            return next(iter(found))
        if found:
            raise UnknownUnit(f"“{text}”可以指好几个工会：{self.listing(sorted(found))}；请写工会编号")
        raise UnknownUnit(self.unknown_message(text))

    def nearest(self, text: str, n: int = 5) -> list[str]:
        """Up to n union codes whose code or name is closest to the text."""
        want = _norm(text)
        scored = []
        for uid, u in self.units.items():
            name = _norm(u.get("name", ""))
            score = max(difflib.SequenceMatcher(None, want, uid.lower()).ratio(),
                        difflib.SequenceMatcher(None, want, name).ratio())
            if want and (want in name or want in uid.lower()):
                score += 1
            scored.append((-score, uid))
        scored.sort()
        return [uid for s, uid in scored[:n] if -s >= 0.3]

    def unknown_message(self, text: str) -> str:
        near = self.nearest(text)
        hint = f"最接近的有：{self.listing(near)}" if near else "工会名单中没有相近的名称"
        return f"没有“{text}”这个工会（既不是工会编号，也不是工会名称）；{hint}。全部工会和编号见 python build.py units"

    def label(self, uid: str) -> str:
        """大连市总工会（dl）."""
        name = self.units.get(uid, {}).get("name")
        return f"{name}（{uid}）" if name else uid

    def listing(self, uids) -> str:
        return "、".join(self.label(u) for u in uids)

    def level(self, uid: str) -> int | None:
        return UNIT_LEVEL.get(self.units.get(uid, {}).get("kind"))

    def chain(self, uid: str) -> list[str]:
        """The union and every union above it, nearest first."""
        out, seen = [], set()
        while uid in self.units and uid not in seen:
            out.append(uid)
            seen.add(uid)
            uid = self.units[uid].get("parent")
        return out

    def city_of(self, uid: str) -> str | None:
        """The city federation above a union (the top of its chain), if the chain reaches one."""
        chain = self.chain(uid)
        return chain[-1] if chain and self.level(chain[-1]) == 3 else None

    def below(self, top: str) -> set:
        """A union and every union below it."""
        return descendants(self.units, top)

    def tree(self) -> list[tuple[int, str]]:
        """(depth, code) of every union, each under its parent, in code order."""
        children: dict = {}
        for uid, u in self.units.items():
            children.setdefault(u.get("parent") if u.get("parent") in self.units else None, []).append(uid)
        out = []

        def walk(uid, depth):
            out.append((depth, uid))
            for c in sorted(children.get(uid, ())):
                walk(c, depth + 1)
        for top in sorted(children.get(None, ())):
            walk(top, 0)
        return out
