"""Demo data for population health: the borough's reference data and the warehouse build.

Called by ``joinedup demo`` after the borough's people are ingested and linked.
Idempotent: the reference is reloaded only when missing, and the build is incremental,
so a second call writes nothing new.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from joinedup.population.warehouse import Warehouse
from joinedup.population.warehouse_build import (
    pseudonymiser,
    reference_load,
    warehouse_build,
    warehouse_root,
)


def demo_load(borough: Path, *, progress: Callable[[str, int, int], None]) -> None:
    warehouse = Warehouse(warehouse_root())
    if not warehouse.has_reference():
        reference_load(warehouse=warehouse, folder=borough)
        progress("population reference", 1, 1)
    warehouse_build(warehouse=warehouse, pseudonyms=pseudonymiser(), progress=progress)
