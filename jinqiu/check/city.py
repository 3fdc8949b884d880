"""The city's own conventions, read from its union tree (units.yaml): its name, its place name, its
telephone area codes and the unions its examples name.

Nothing here is built in for one city. The place name is the city federation's name without
总工会 (沈阳市总工会 -> 沈阳市); the area codes are the city federation's `area_codes`, else the area
code of its `contact_phone`, else the most common one among the unions' contact phones; the
examples (a district or industry union and a grassroots union below it) are the first of each in
the city's own list. A tree without a city federation, or without any area code, has none of these,
and the wording says "区号-电话号码" instead of naming a city's number.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from .unitref import UNIT_LEVEL

AREA_CODE_RE = re.compile(r"^0[1-9][0-9]{1,2}$")
LOCAL_EXAMPLE = "23456789"  # an eight-digit local number that belongs to nobody in particular
_LANDLINE = re.compile(r"^(0[1-9][0-9]{1,2})-[2-9][0-9]{6,7}$")


@dataclass(frozen=True)
class City:
    name: str = ""  # 沈阳市总工会
    place: str = ""  # 沈阳市
    code: str = ""  # the city federation's code
    area_codes: tuple = ()
    district: tuple | None = None  # (code, name) of a district or industry union, for examples
    grassroots: tuple | None = None  # (code, name) of a grassroots union, for examples

    def phone_example(self) -> str:
        """A landline in the city's own form: 024-23456789; 区号-电话号码 without an area code."""
        return f"{self.area_codes[0]}-{LOCAL_EXAMPLE}" if self.area_codes else "区号-电话号码"

    def unit_example(self) -> str:
        """名称（如 沈阳市和平区总工会），也可以写工会编号（如 sy-hp): the sheet's instruction's examples."""
        if self.district is None:
            return "工会可以写名称，也可以写工会编号"
        code, name = self.district
        return f"工会可以写名称（如 {name}），也可以写工会编号（如 {code}）"

    def record_id_example(self, year: int) -> str:
        """2011-sy-hp-0001-004: an application number in the city's own form."""
        code = self.grassroots[0] if self.grassroots else "基层工会编号"
        return f"{year}-{code}-004"

    def short_name(self, name: str) -> str:
        """The distinctive part of a union's name, as people search for it: without the city's
        place name in front and the 总工会 or 工会 ending (沈阳市和平区总工会 -> 和平区)."""
        short = name.removeprefix(self.place) if self.place and len(name) > len(self.place) + 2 else name
        for suffix in ("总工会", "工会"):
            if short.endswith(suffix) and len(short) > len(suffix):
                return short.removesuffix(suffix)
        return short


def place_of(city_name: str) -> str:
    """沈阳市总工会 -> 沈阳市; a name without the 总工会 ending gives no place name."""
    name = str(city_name).strip()
    return name[: -len("总工会")] if name.endswith("总工会") and len(name) > 3 else ""


def area_code_of(phone) -> str | None:
    """The area code of a landline written 024-23456789, else None."""
    m = _LANDLINE.match(str(phone or ""))
    return m.group(1) if m else None


def of_units(units: dict) -> City:
    """The conventions of the city whose union tree this is ({code: unit}, as Dataset.units)."""
    cities = [uid for uid, u in units.items() if isinstance(u, dict) and u.get("kind") == "city"]
    if len(cities) != 1:
        return City()
    code = cities[0]
    top = units[code]
    declared = [str(a) for a in top.get("area_codes") or [] if AREA_CODE_RE.match(str(a))]
    if not declared:
        own = area_code_of(top.get("contact_phone"))
        if own:
            declared = [own]
        else:
            seen = Counter(a for a in (area_code_of(u.get("contact_phone")) for u in units.values() if isinstance(u, dict)) if a)
            declared = [a for a, _ in seen.most_common(1)]
    district = grassroots = None
    for uid in sorted(units):
        u = units[uid]
        if not isinstance(u, dict):
            continue
        level = UNIT_LEVEL.get(u.get("kind"))
        if district is None and level == 2 and u.get("parent") == code:
            district = (uid, str(u.get("name", uid)))
    if district is not None:
        grassroots = next(((uid, str(units[uid].get("name", uid))) for uid in sorted(units)
                           if isinstance(units[uid], dict) and units[uid].get("parent") == district[0]
                           and UNIT_LEVEL.get(units[uid].get("kind")) == 1), None)
    name = str(top.get("name", ""))
    return City(name, place_of(name), code, tuple(dict.fromkeys(declared)), district, grassroots)


def _one(found: set) -> str | None:
    return next(iter(found)) if len(found) == 1 else None


def lost_zero(text: str, area_codes) -> str | None:
    """The landline a number is when it is exactly one of the city's area codes without its leading
    0 and an eight-digit local number (24-23456789, 2423456789 -> 024-23456789); None when it is
    not, or when two area codes would both fit."""
    return _one({f"{code}-{m.group(1)}" for code in area_codes
                 for m in [re.fullmatch(re.escape(code[1:]) + r"-?([2-9][0-9]{7})", text)] if m})


def glued(text: str, area_codes) -> str | None:
    """A landline typed without its hyphen, when it is one of the city's area codes and an
    eight-digit local number (02423456789 -> 024-23456789)."""
    return _one({f"{code}-{m.group(1)}" for code in area_codes
                 for m in [re.fullmatch(re.escape(code) + r"([2-9][0-9]{7})", text)] if m})
