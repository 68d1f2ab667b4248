"""What the panel page shows, worked out from the stored audit record: each quota against
the pool, the lottery's expected count and the seated panel; and the chances in bands.

Reads only the record (random references and quota features), never the register.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from joinedup.citizens import charts


@dataclass(frozen=True)
class QuotaLine:
    feature: str
    value: str
    low: int
    high: int
    in_pool: int
    expected: float  # the lottery's expected number on the panel
    seated: int

    @property
    def met(self) -> bool:
        return self.low <= self.seated <= self.high


def quota_lines(record: dict[str, Any], seated: Iterable[str]) -> list[QuotaLine]:
    header = record["pool"]["header"]
    rows = [dict(zip(header, r, strict=True)) for r in record["pool"]["rows"]]
    chances, on_panel = record["probabilities"], set(seated)
    out = []
    for q in record["quotas"]["quotas"]:
        match = [r["ref"] for r in rows if r.get(q["feature"]) == q["value"]]
        out.append(
            QuotaLine(
                q["feature"],
                q["value"],
                q["min"],
                q["max"],
                len(match),
                sum(float(chances[ref]) for ref in match),
                sum(ref in on_panel for ref in match),
            )
        )
    return out


@dataclass(frozen=True)
class Chances:
    bands: list[charts.Band]
    chart: Markup


def chances(record: dict[str, Any], equal_share: float) -> Chances:
    bands = charts.chance_bands([float(p) for p in record["probabilities"].values()])
    return Chances(bands, charts.chance_chart("chances", bands, equal_share))
