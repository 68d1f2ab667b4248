"""Panels drawn from the register: the pool snapshot, the draw, replay and replacements.

The kernel (``joinedup.citizens.selection``) does the selection; this module turns the
register into its input and stores its audit record. The pool snapshot holds each
volunteer's random ``ref``, the quota features and a keyed hash of the household (never
a name or an address), so it can be published and replayed by anyone, and erasing a
volunteer leaves nothing in it that points back to them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import secrets
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction

from joinedup.citizens import selection as kernel
from joinedup.citizens.models import MemberStatus, Panel, PanelKind, PanelMember, Volunteer
from joinedup.citizens.selection.audit import dumps
from joinedup.citizens.selection.model import METHODS, Method
from joinedup.citizens.selectors import FEATURES, _population, volunteers
from joinedup.core.audit import audit_record
from joinedup.core.models import AuditAction, Neighbourhood, User
from joinedup.errors import Conflict, InvalidInput

PUBLIC_PANELS = 1000
# The largest pool drawn within a web request: a neighbourhood's pool (up to about 600 in
# the demo) solves in seconds, the whole borough's 3,000 takes minutes (bench_panel_register).
WEB_POOL_LIMIT = 1_000


def _household(volunteer: Volunteer) -> str:
    """A keyed hash of the household: equal for one dwelling, useless for finding it."""
    if not volunteer.household_key:
        return f"alone:{volunteer.ref}"
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, volunteer.household_key.encode(), hashlib.sha256).hexdigest()[:20]


def _value(volunteer: Volunteer, feature: str) -> str:
    if feature == "neighbourhood":
        return volunteer.neighbourhood.name if volunteer.neighbourhood else "Not known"
    value = getattr(volunteer, feature)
    return "Not known" if value in (None, "") else str(value)


def pool_build(
    *, user: User, neighbourhood: Neighbourhood | None, features: Sequence[str]
) -> kernel.Pool:
    """The kernel's pool: ref, one column per feature, household hash."""
    unknown = [f for f in features if f not in FEATURES]
    if unknown:
        raise InvalidInput(f"unknown feature {unknown[0]!r}", where="features")
    found = volunteers(user=user, neighbourhood=neighbourhood).select_related("neighbourhood")
    people = list(found.order_by("ref"))
    if not people:
        raise InvalidInput("no volunteers match these filters", where="neighbourhood")
    header = ("ref", *features, "household")
    rows = tuple((v.ref, *(_value(v, f) for f in features), _household(v)) for v in people)
    return kernel.Pool(header, rows, "ref", ("household",))


def quotas_suggest(
    *, pool: kernel.Pool, features: Sequence[str], size: int, neighbourhood: Neighbourhood | None
) -> kernel.QuotaTable:
    """Bounds around each value's fair share of the panel: its share of the adult
    population where the borough's estimates give it, else its share of the pool."""
    population = _population(neighbourhood)
    quotas = []
    for feature in features:
        counts = Counter(pool.column(feature))
        shares = population.get(feature)
        total = sum(shares.values()) if shares else 0.0
        for value in sorted(counts):
            if shares and total:
                share = shares.get(value, 0.0) / total
            else:
                share = counts[value] / pool.size
            expected = share * size
            low = min(max(0, math.floor(expected) - 1), counts[value])
            high = min(max(low, math.ceil(expected) + 1), counts[value], size)
            quotas.append(kernel.Quota(feature, value, low, high))
    return kernel.QuotaTable(tuple(quotas), "features", ("feature", "value", "min", "max"))


def quotas_from_table(rows: Sequence[tuple[str, str, str, str]]) -> str:
    """Quota CSV text from the edited table's rows (feature, value, min, max)."""
    lines = ["feature,value,min,max"]
    for feature, value, low, high in rows:
        lines.append(",".join(_csv(x) for x in (feature, value, low.strip(), high.strip())))
    return "\n".join(lines) + "\n"


def _csv(text: str) -> str:
    return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"\n') else text


def _method(name: str) -> Method:
    for method in METHODS:
        if method == name:
            return method
    raise InvalidInput("Choose a selection method", where="method")


@dataclass(frozen=True)
class DrawRequest:
    name: str
    kind: str
    neighbourhood: Neighbourhood | None
    features: tuple[str, ...]
    quotas_csv: str
    size: int
    method: str
    seed: int | None
    public: bool = False


def _checked(request: DrawRequest) -> kernel.QuotaTable:
    if not request.name.strip():
        raise InvalidInput("Enter a name for the panel", where="name")
    if request.method not in {"leximin", "maximin", "nash", "legacy"}:
        raise InvalidInput("Choose a selection method", where="method")
    if request.kind not in PanelKind.values:
        raise InvalidInput("Choose what the panel is for", where="kind")
    table = kernel.parse_quotas(request.quotas_csv)
    missing = sorted(set(table.features) - set(FEATURES))
    if missing:
        raise InvalidInput(
            f"the quotas name {missing[0]!r}; use the register's features: {', '.join(FEATURES)}",
            where="quotas",
        )
    return table


def panel_draw(*, user: User, request: DrawRequest, pool_limit: int | None = None) -> Panel:
    """Solve, draw and store a panel with its audit record. Raises InfeasibleQuotas (with
    the relaxation report) when no panel meets the quotas, and InvalidInput when the pool
    is larger than ``pool_limit`` (the web page's limit; the command line has none)."""
    table = _checked(request)
    features = tuple(table.features)
    pool = pool_build(user=user, neighbourhood=request.neighbourhood, features=features)
    if pool_limit is not None and pool.size > pool_limit:
        raise InvalidInput(
            f"{pool.size:,} volunteers are too many to draw on this page (at most "
            f"{pool_limit:,}): choose a neighbourhood, or draw with `joinedup citizens draw`",
            where="neighbourhood",
        )
    seed = request.seed if request.seed is not None else secrets.randbelow(10**9)
    sel = kernel.select(pool, table, request.size, method=_method(request.method))
    lottery: list[tuple[str, ...]] = []
    if request.public:
        ids = pool.ids
        picks = kernel.public_lottery(
            sel.instance, sel.distribution, kernel.draw_rng(seed), size=PUBLIC_PANELS
        )
        lottery = [tuple(ids[i] for i in p) for p in picks]
        drawn: tuple[str, ...] = ()
    else:
        drawn = sel.draw(kernel.draw_rng(seed))
    record = kernel.audit_record(sel, seed=seed, panel=drawn)
    if lottery:
        record["public_lottery"] = [list(p) for p in lottery]
        record["public_lottery_sha256"] = kernel.lottery_digest(lottery)
    return _store(user, request, sel, seed, record, drawn)


@transaction.atomic
def _store(
    user: User,
    request: DrawRequest,
    sel: kernel.Selection,
    seed: int,
    record: dict[str, Any],
    drawn: tuple[str, ...],
) -> Panel:
    text = dumps(record)
    panel = Panel.objects.create(
        name=request.name.strip()[:200],
        kind=request.kind,
        neighbourhood=request.neighbourhood,
        size=request.size,
        method=request.method,
        seed=seed,
        quotas_csv=request.quotas_csv,
        report=sel.report(),
        audit=record,
        audit_sha256=hashlib.sha256(text.encode()).hexdigest(),
        lottery_digest=record.get("public_lottery_sha256", ""),
        created_by=user,
    )
    _seat(user, panel, drawn)
    audit_record(
        actor=user,
        action=AuditAction.CREATE,
        resource=f"citizens.panel:{panel.pk}",
        reason=f"{request.method} draw of {request.size} from {len(sel.pool.rows)}; seed {seed}",
    )
    return panel


def _seat(user: User, panel: Panel, refs: Sequence[str], *, replacing: str = "") -> None:
    found = Volunteer.objects.visible_to(user).filter(ref__in=list(refs))
    by_ref = {v.ref: v for v in found}
    PanelMember.objects.bulk_create(
        PanelMember(
            panel=panel,
            ref=r,
            volunteer=by_ref.get(r),
            status=MemberStatus.DRAWN,
            replacement_for=replacing,
        )
        for r in refs
    )


@transaction.atomic
def panel_announce(*, user: User, panel: Panel, number: int) -> Panel:
    """A public draw: the number announced at the meeting picks a panel from the list."""
    lottery = panel.audit.get("public_lottery")
    if not lottery:
        raise InvalidInput("this panel was not drawn from a published list", where="number")
    if panel.public_number is not None:
        raise Conflict("the number for this draw has already been entered")
    drawn = kernel.public_draw([tuple(p) for p in lottery], number)
    panel.public_number = number
    panel.audit = {**panel.audit, "panel": list(drawn), "public_number": number}
    panel.save(update_fields=["public_number", "audit"])
    _seat(user, panel, drawn)
    audit_record(
        actor=user,
        action=AuditAction.UPDATE,
        resource=f"citizens.panel:{panel.pk}",
        reason=f"public draw: number {number} announced",
    )
    return panel


def panel_replay(*, user: User, panel: Panel, resolve: bool = True) -> list[str]:
    """Check the stored record: the pool hash, every recorded panel meets the quotas, the
    seed (or the announced number) gives the same panel, and (``resolve``) re-solving gives
    the same probabilities; then each replacement the same way. Empty means verified."""
    problems: list[str] = []
    record = panel.audit
    if hashlib.sha256(dumps(_original(record)).encode()).hexdigest() != panel.audit_sha256:
        problems.append("the stored record was changed after the draw")
    problems += _replay_one(record, resolve=resolve)
    for n, extra in enumerate(panel.replacements, start=1):
        problems += [f"replacement {n}: {p}" for p in _replay_one(extra, resolve=resolve)]
    audit_record(
        actor=user,
        action=AuditAction.READ,
        resource=f"citizens.panel:{panel.pk}",
        reason="replayed: " + ("verified" if not problems else f"{len(problems)} problems"),
    )
    return problems


def _original(record: dict[str, Any]) -> dict[str, Any]:
    """The record as first stored (a public draw's number and panel are added later)."""
    if "public_number" not in record:
        return record
    return {k: ([] if k == "panel" else v) for k, v in record.items() if k != "public_number"}


def _replay_one(record: dict[str, Any], *, resolve: bool) -> list[str]:
    try:
        if "public_lottery" in record:
            return _replay_public(record)
        if not resolve:
            again = kernel.replay(record)
            return [] if list(again) == record["panel"] else ["the seed draws a different panel"]
        return kernel.verify(record)
    except Exception as exc:  # noqa: BLE001 - any failure to replay is a finding, not a crash
        return [getattr(exc, "detail", str(exc))]


def _replay_public(record: dict[str, Any]) -> list[str]:
    lottery = [tuple(p) for p in record["public_lottery"]]
    problems = []
    if kernel.lottery_digest(lottery) != record["public_lottery_sha256"]:
        problems.append("the published list does not match its SHA-256")
    pool, table = _inputs(record)
    inst = kernel.build_instance(pool, table, int(record["panel_size"]))
    position = {pid: i for i, pid in enumerate(pool.ids)}
    for panel in lottery:
        counts = [0] * inst.num_types
        for pid in panel:
            counts[int(inst.type_of[position[pid]])] += 1
        if not inst.composition_ok(counts):  # type: ignore[arg-type]
            problems.append("a published panel breaks the quotas")
            break
    number = record.get("public_number")
    if number is not None and list(lottery[number - 1]) != record["panel"]:
        problems.append("the announced number does not give the recorded panel")
    return problems


def panel_replace(*, user: User, panel: Panel, dropped: str) -> str:
    """Draw a replacement for a member who dropped out, keeping every quota: the rest of
    the panel is held and the missing seat drawn by the same method. Returns the new ref."""
    member = panel.members.filter(ref=dropped).exclude(status=MemberStatus.DROPPED).first()
    if member is None:
        raise InvalidInput("that volunteer is not on the panel", where="dropped")
    pool, table = _inputs(panel.audit)
    out = (MemberStatus.DROPPED, MemberStatus.DECLINED)
    keep = tuple(
        panel.members.exclude(status__in=out).exclude(ref=dropped).values_list("ref", flat=True)
    )
    gone = (*panel.members.filter(status__in=out).values_list("ref", flat=True), dropped)
    sel = kernel.select(
        pool,
        table,
        panel.size,
        method=_method(panel.method),
        selected=keep,
        unavailable=gone,
    )
    seed = secrets.randbelow(10**9)
    new_panel = sel.draw(kernel.draw_rng(seed))
    current = keep
    added = [r for r in new_panel if r not in current]
    extra = kernel.audit_record(sel, seed=seed, panel=new_panel)
    extra["replacing"] = dropped
    with transaction.atomic():
        member.status = MemberStatus.DROPPED
        member.save(update_fields=["status"])
        panel.replacements = [*panel.replacements, extra]
        panel.save(update_fields=["replacements"])
        _seat(user, panel, added, replacing=dropped)
        audit_record(
            actor=user,
            action=AuditAction.UPDATE,
            resource=f"citizens.panel:{panel.pk}",
            reason=f"replacement drawn for {dropped}: {', '.join(added)}",
        )
    return added[0] if added else ""


def _inputs(record: dict[str, Any]) -> tuple[kernel.Pool, kernel.QuotaTable]:
    pool = kernel.Pool(
        tuple(record["pool"]["header"]),
        tuple(tuple(r) for r in record["pool"]["rows"]),
        record["pool"]["id_column"],
        tuple(record["pool"]["household_columns"]),
    )
    q = record["quotas"]
    table = kernel.QuotaTable(
        tuple(kernel.Quota(**x) for x in q["quotas"]),
        q["dialect"],
        tuple(q["header"]),
        tuple(tuple(r) for r in q["rows"]),
    )
    return pool, table


def probabilities(panel: Panel) -> list[tuple[str, dict[str, str], float, bool]]:
    """Each volunteer in the snapshot: ref, features, probability, on the panel."""
    record = panel.audit
    header = record["pool"]["header"]
    probs = record["probabilities"]
    seated = set(panel.members.exclude(status=MemberStatus.DROPPED).values_list("ref", flat=True))
    out = []
    for row in record["pool"]["rows"]:
        values = dict(zip(header, row, strict=True))
        ref = values.pop("ref")
        values.pop("household", None)
        out.append((ref, values, float(probs[ref]), ref in seated))
    return sorted(out, key=lambda r: (r[2], r[0]))


def replay_text(panel: Panel) -> str:
    """The audit record to download, publish and replay with ``joinedup panel replay``."""
    return json.dumps(panel.audit, indent=1, sort_keys=True)
