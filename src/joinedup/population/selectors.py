"""Reads of the planning zone: the population report, computed once per warehouse build.

Everything here is aggregated from the pseudonymised warehouse; nothing reads the
record or returns a person. The report is cached in the process, keyed by the
warehouse's build number, so a rebuild is picked up by the next request.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings

from joinedup.errors import NotFound
from joinedup.population import indicators as ind
from joinedup.population import scorecard, vaccines
from joinedup.population.efi import EfiReference
from joinedup.population.warehouse import Warehouse
from joinedup.population.warehouse_build import warehouse_root

EFI_VARIABLE = "JOINEDUP_EFI_REFERENCE"


def efi_reference_dir() -> Path:
    return Path(settings.EFI_REFERENCE_DIR)


def efi_reference() -> EfiReference | None:
    """The eFI code lists and value rules, or None when they are not installed."""
    folder = efi_reference_dir()
    if not (folder / "efi_codes.csv").exists():
        return None
    return _efi_cache(str(folder))


_efi_loaded: dict[str, EfiReference] = {}


def _efi_cache(folder: str) -> EfiReference:
    if folder not in _efi_loaded:
        _efi_loaded[folder] = EfiReference.load(Path(folder))
    return _efi_loaded[folder]


@dataclass
class Report:
    as_of: dt.date
    built_at: str
    period: tuple[int, ...]
    inputs: ind.MortalityInputs
    tables: dict[str, ind.Table] = field(default_factory=dict)
    gaps: list[ind.Gap] = field(default_factory=list)
    frailty: ind.Frailty | None = None
    uptake: list[ind.Uptake] = field(default_factory=list)
    scorecards: dict[str, scorecard.Scorecard] = field(default_factory=dict)

    def table(self, slug: str) -> ind.Table:
        if slug not in self.tables:
            raise NotFound("there is no table with this name")
        return self.tables[slug]

    def add(self, *tables: ind.Table) -> None:
        for table in tables:
            self.tables[table.slug] = table


_lock = threading.Lock()
_cache: dict[tuple[str, Any, Any], Report] = {}


def warehouse() -> Warehouse:
    return Warehouse(warehouse_root())


def population_report() -> Report:
    """The report for the current build; NotFound when no warehouse has been built."""
    wh = warehouse()
    manifest = wh.manifest()
    if not manifest or not wh.exists():
        raise NotFound("the warehouse has not been built yet: run joinedup warehouse build")
    if not wh.is_current():
        raise NotFound(
            "the warehouse was built by an earlier version: run joinedup warehouse build"
        )
    key = (str(wh.root), manifest.get("build"), manifest.get("built_at"))
    with _lock:
        if key not in _cache:
            _cache.clear()
            _cache[key] = _report(wh, manifest)
        return _cache[key]


def _report(wh: Warehouse, manifest: dict[str, Any]) -> Report:
    as_of = dt.date.fromisoformat(manifest["as_of"])
    inputs = ind.mortality_inputs(wh)
    spans = ind.periods(inputs)
    if not spans:
        raise NotFound("the warehouse holds fewer than three years of deaths and populations")
    latest = spans[-1]
    report = Report(as_of, manifest.get("built_at", ""), latest, inputs)
    report.gaps = ind.life_expectancy_gap(inputs, latest)
    report.add(
        ind.life_expectancy(inputs, latest),
        ind.gap_table(report.gaps),
        ind.trend_table(inputs),
        ind.premature_mortality(inputs, latest),
        ind.causes_by_deprivation(inputs, latest),
    )
    reference = efi_reference()
    if reference is not None:
        report.frailty = ind.frailty(wh, reference, as_of)
        report.add(report.frailty.by_neighbourhood, report.frailty.by_practice)
    for programme in vaccines.PROGRAMMES:
        result = ind.uptake(wh, programme, as_of)
        report.uptake.append(result)
        report.add(*result.tables.values(), result.lowest)
    report.scorecards = scorecard.scorecards(wh, report)
    for card in report.scorecards.values():
        report.add(card.table())
    return report
