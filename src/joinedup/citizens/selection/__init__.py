"""Fair panel selection (sortition) as a pure kernel: no Django, no files, no global state.

Public API::

    pool = parse_people(text, id_column=..., household=("address",))
    quotas = parse_quotas(text)                     # either CSV dialect
    sel = select(pool, quotas, k, method="leximin")  # or maximin, nash, legacy
    sel.probabilities, sel.distribution, sel.report()
    panel = sel.draw(draw_rng(seed))
    record = audit_record(sel, seed=seed, panel=panel); replay(record) == panel
    panels = public_lottery(sel.instance, sel.distribution, rng, size=1000)
    new_panel, _ = replacement(sel, panel, dropped=("p7",), rng=rng)

Infeasible quotas raise ``InfeasibleQuotas`` whose ``report`` names the conflicting
bounds and the smallest relaxation. See docs/panel-selection.md.
"""

from __future__ import annotations

from joinedup.citizens.selection.audit import audit_record, draw_rng, replay, verify
from joinedup.citizens.selection.dialects import (
    format_people,
    format_probabilities,
    format_quotas,
    parse_people,
    parse_quotas,
)
from joinedup.citizens.selection.draw import (
    lottery_digest,
    lottery_probabilities,
    public_draw,
    public_lottery,
    sample_panel,
)
from joinedup.citizens.selection.errors import InfeasibleQuotas
from joinedup.citizens.selection.model import (
    Distribution,
    Instance,
    Pool,
    Quota,
    QuotaTable,
    build_instance,
)
from joinedup.citizens.selection.relax import relax, relaxation_report
from joinedup.citizens.selection.report import gini
from joinedup.citizens.selection.select import VERSION, Selection, replacement, select

__all__ = [
    "VERSION",
    "Distribution",
    "InfeasibleQuotas",
    "Instance",
    "Pool",
    "Quota",
    "QuotaTable",
    "Selection",
    "audit_record",
    "build_instance",
    "draw_rng",
    "format_people",
    "format_probabilities",
    "format_quotas",
    "gini",
    "lottery_digest",
    "lottery_probabilities",
    "parse_people",
    "parse_quotas",
    "public_draw",
    "public_lottery",
    "relax",
    "relaxation_report",
    "replacement",
    "replay",
    "sample_panel",
    "select",
    "verify",
]
