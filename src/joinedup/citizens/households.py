"""Household keys: one normalised form for the many ways people write one address.

The one-person-per-household rule compares these keys, so "Flat 2, 10 High St.",
"2/10 HIGH STREET" and "10 High Street, Flat 2" must give the same key, and "Flat 3" or
"12 High Street" a different one. Pure text rules, no Django; it must never look an
address up anywhere or keep it.
"""

from __future__ import annotations

import re

# Street-type abbreviations a resident might use, and the word they stand for.
_STREET_WORDS = {
    "st": "street",
    "str": "street",
    "rd": "road",
    "ave": "avenue",
    "av": "avenue",
    "ln": "lane",
    "dr": "drive",
    "cl": "close",
    "ct": "court",
    "cres": "crescent",
    "cresc": "crescent",
    "gdns": "gardens",
    "gdn": "garden",
    "pl": "place",
    "sq": "square",
    "tce": "terrace",
    "terr": "terrace",
    "gr": "grove",
    "gro": "grove",
    "pk": "park",
    "wy": "way",
    "hse": "house",
    "ho": "house",
    "bldgs": "buildings",
    "mt": "mount",
    "nth": "north",
    "sth": "south",
}
_UNIT_WORDS = {"flat", "apartment", "apt", "unit", "room", "no", "number", "maisonette"}
_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)\s*([0-9][A-Z]{2})$")
_NUMBER = re.compile(r"^\d+[a-z]?$")


def postcode_normalise(text: str) -> str:
    """``sk1 3xe`` -> ``SK1 3XE``; text that is not a UK postcode comes back upper-cased."""
    squeezed = re.sub(r"\s+", "", text.upper())
    match = _POSTCODE.match(squeezed)
    return f"{match.group(1)} {match.group(2)}" if match else squeezed


def _tokens(address: str) -> list[str]:
    text = address.lower().replace("&", " and ")
    text = re.sub("['\\u2019`]", "", text)  # "St Mary's" and "St Marys" are one street
    text = re.sub(r"(\d+)\s*/\s*(\d+[a-z]?)", r"flat \1 \2", text)  # 2/10 -> flat 2 10
    text = re.sub(r"(\d+)\s+([a-z])\b(?!\w)", r"\1\2", text)  # 10 a -> 10a
    text = re.sub(r"[^a-z0-9]+", " ", text)
    return text.split()


def _street_word(word: str, last: bool) -> str:
    if word == "st" and not last:
        return "saint"  # "St Mary's Road": a saint; "High St": a street
    return _STREET_WORDS.get(word, word)


def household_key(address: str, postcode: str = "") -> str:
    """A key equal for every spelling of one dwelling: ``postcode|unit|number|words``."""
    words = _tokens(address)
    unit = ""
    rest: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        if word in _UNIT_WORDS and i + 1 < len(words) and _NUMBER.match(words[i + 1]):
            if word in {"no", "number"}:
                rest.append(words[i + 1])
            else:
                unit = words[i + 1]
            i += 2
            continue
        rest.append(word)
        i += 1
    numbers = [w for w in rest if _NUMBER.match(w)]
    number = numbers[0] if numbers else ""
    if len(numbers) > 1 and not unit:
        unit, number = numbers[0], numbers[1]  # "2 10 High Street": flat 2 at number 10
    names = [w for w in rest if not _NUMBER.match(w) and w != "the"]
    names = [_street_word(w, last=n == len(names) - 1) for n, w in enumerate(names)]
    return "|".join((postcode_normalise(postcode), unit, number, " ".join(names)))
