"""Three-way merge of care plan content. Pure: no Django.

Two practitioners edit the same plan from the same version. The first to save wins the
version; the second's save is refused as a conflict and merged here: the *base* (the
version both started from), *mine* (what the second practitioner sent) and *theirs* (the
plan as it is now). A field or a goal or action changed on one side only takes that
side's value; changed on both sides to different values it is a conflict the practitioner
must resolve. Nothing is ever overwritten silently.

Content is a dict: scalar fields (``what_matters``, ``contingency``, ``review_on``) and
item lists (``goals``, ``actions``) whose items are dicts with a stable ``id``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SCALARS = ("what_matters", "contingency", "review_on")
LISTS = ("goals", "actions")
_MISSING: Any = object()


@dataclass(frozen=True)
class Clash:
    field: str  # "what_matters", or "goals:<id>", "actions:<id>"
    base: Any
    mine: Any
    theirs: Any


@dataclass
class MergeResult:
    merged: dict[str, Any]
    clashes: list[Clash] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.clashes


def _pick(name: str, base: Any, mine: Any, theirs: Any, clashes: list[Clash]) -> Any:
    if mine in (theirs, base):
        return theirs
    if theirs == base:
        return mine
    clashes.append(Clash(name, base, mine, theirs))
    return theirs  # keep the saved value until the practitioner chooses


def _items(content: dict[str, Any], name: str) -> dict[str, dict[str, Any]]:
    return {str(item["id"]): item for item in content.get(name, [])}


def _merge_list(
    name: str, base: dict[str, Any], mine: dict[str, Any], theirs: dict[str, Any]
) -> tuple[list[dict[str, Any]], list[Clash]]:
    b, m, t = _items(base, name), _items(mine, name), _items(theirs, name)
    clashes: list[Clash] = []
    order = list(t) + [k for k in m if k not in t]
    merged: list[dict[str, Any]] = []
    for key in order:
        chosen = _pick(
            f"{name}:{key}",
            b.get(key, _MISSING),
            m.get(key, _MISSING),
            t.get(key, _MISSING),
            clashes,
        )
        if chosen is not _MISSING:
            merged.append(chosen)
    # A clash with a deletion shows the deleted side as None.
    return merged, [
        Clash(c.field, *(None if v is _MISSING else v for v in (c.base, c.mine, c.theirs)))
        for c in clashes
    ]


def merge(base: dict[str, Any], mine: dict[str, Any], theirs: dict[str, Any]) -> MergeResult:
    """Merge ``mine`` into ``theirs`` given their common ``base``."""
    clashes: list[Clash] = []
    merged: dict[str, Any] = {}
    for name in SCALARS:
        merged[name] = _pick(name, base.get(name), mine.get(name), theirs.get(name), clashes)
    for name in LISTS:
        merged[name], found = _merge_list(name, base, mine, theirs)
        clashes.extend(found)
    return MergeResult(merged, clashes)


def resolve(result: MergeResult, choices: dict[str, str]) -> dict[str, Any]:
    """Apply the practitioner's choice ("mine" or "theirs") for each clash."""
    content = {k: (list(v) if isinstance(v, list) else v) for k, v in result.merged.items()}
    for clash in result.clashes:
        choice = choices.get(clash.field)
        if choice not in ("mine", "theirs"):
            raise ValueError(f"choose which version to keep for {clash.field}")
        if choice == "theirs":
            continue
        if ":" not in clash.field:
            content[clash.field] = clash.mine
            continue
        name, key = clash.field.split(":", 1)
        items = [i for i in content[name] if str(i["id"]) != key]
        if clash.mine is not None:
            position = next(
                (n for n, i in enumerate(content[name]) if str(i["id"]) == key), len(items)
            )
            items.insert(position, clash.mine)
        content[name] = items
    return content
