"""The neighbourhood teams' resources on the FHIR facade: CarePlan, Goal, CareTeam, Task,
ServiceRequest.

Each is read through the same scoped querysets as the web pages (so the same people are
visible, and every read is audited by the facade), and written through the app's own
services (``fhir_writes``), with versions kept by the facade. A Goal is one goal of a care
plan (the plan stores its goals as a list, not as rows), so its provider reads the plans
and serves each of their goals, and writes a goal by saving its plan. Registered when the
app is ready, after the FHIR app's own providers.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

from django.db.models import Q

from joinedup.errors import InvalidInput, NotFound
from joinedup.fhir import providers
from joinedup.fhir import search as fs
from joinedup.neighbourhoods.fhir_mapping import (
    GOAL_STATUS_SYSTEM,
    REFERRAL_STATUS,
    TASK_STATUS,
    careplan_to_fhir,
    caseload_entry_to_fhir,
    goal_id,
    goal_key,
    goal_to_fhir,
    servicerequest_to_fhir,
    task_to_fhir,
)
from joinedup.neighbourhoods.fhir_writes import (
    CarePlanWriter,
    CareTeamWriter,
    GoalWriter,
    ServiceRequestWriter,
    TaskWriter,
)
from joinedup.neighbourhoods.models import CarePlan, CaseloadEntry, Referral, Task

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping

    from django.db.models import QuerySet

    from joinedup.core.models import User

P = fs.SearchParam


def _patient(field: str) -> P:
    return P("patient", "reference", (field,), "Whose it is", targets=("Patient",))


def _codes(table: Mapping[Any, str]) -> Any:
    """A FHIR status code → the stored statuses it stands for."""

    def stored(code: str) -> Iterable[str] | None:
        found = [ours for ours, theirs in table.items() if theirs == code]
        return found or None

    return stored


def _plans(user: User) -> QuerySet[CarePlan]:
    return CarePlan.objects.visible_to(user).select_related("updated_by")


def _plan_exists(plan_id: Any) -> bool:
    return CarePlan.objects.for_system("fhir existence check").filter(id=plan_id).exists()


# -- Goal: one per goal of a care plan

_GOAL_BATCH = 200
# Parameters about the goal itself, matched on each goal in Python; the others (patient,
# subject, _lastUpdated) are about its plan and filter the plans in the database.
_GOAL_LEVEL = frozenset({"_id", "lifecycle-status"})
_Candidate = tuple[CarePlan, int, dict[str, Any]]


def _goal_params() -> dict[str, fs.SearchParam]:
    # The goal-level parameters name the plan's id column only so that parsing and
    # :missing have a real column; GoalProvider.search matches them on each goal instead.
    return {
        "_id": P(
            "_id", "token", ("id",), "The Goal's id: <care plan id>-<goal id>", sortable=False
        ),
        "patient": _patient("person_id"),
        "subject": P("subject", "reference", ("person_id",), "Whose goal", targets=("Patient",)),
        "lifecycle-status": P(
            "lifecycle-status",
            "token",
            ("id",),
            "Lifecycle status (every goal in a plan is active)",
            sortable=False,
        ),
    }


def _split_goal_id(logical_id: str) -> tuple[int, str] | None:
    plan, _, key = logical_id.partition("-")
    if not (plan.isdigit() and len(plan) < 18 and key):
        return None
    return int(plan), key


def _token_test(name: str, modifier: str, value: str) -> Callable[[str, str], bool]:
    """A goal-level token condition as a test of (goal id, lifecycle status)."""
    if modifier == "missing":  # neither is ever missing
        return lambda _id, _status: value == "false"
    wanted = set()
    for one in fs._split(value):
        system, bar, code = one.rpartition("|") if "|" in one else ("", "", one)
        if name == "lifecycle-status" and bar and system and system != GOAL_STATUS_SYSTEM:
            continue
        wanted.add(code)
    index = 0 if name == "_id" else 1
    if modifier == "not":
        return lambda *pair: pair[index] not in wanted
    return lambda *pair: pair[index] in wanted


class GoalProvider(providers.ModelProvider):
    """Goals read through their care plans (the same scope as CarePlan); each page holds
    goals, in the plans' order and then the plan's own order of its goals.

    Written through ``GoalWriter``, which saves the plan: the generic create and update
    work on the plan as the row (a Goal's id gives its plan's id, ``_id_value``), and
    render the one goal written (the writer returns the plan and that goal's own id). A
    Goal's version moves when its plan is saved (its lastUpdated is the plan's)."""

    def __init__(self) -> None:
        super().__init__(
            resource_type="Goal",
            model=CarePlan,
            queryset=_plans,
            to_fhir=careplan_to_fhir,  # unused: render_rows maps each goal of a plan
            last_updated_field="updated_at",
            params=_goal_params(),
            id_field="id",
            person_field="person_id",
            patient_param="patient",
            exists=_plan_exists,
            documentation=(
                "Each goal of a shared care plan (id <care plan id>-<goal id>). Every goal in "
                "a plan is active; lastUpdated is when the plan was last saved. Created and "
                "updated by saving the person's care plan (which must exist)."
            ),
            writer=GoalWriter(),
        )

    def render_rows(self, rows: list[Any]) -> list[providers.Resource]:
        """Every goal of each plan; for a written goal (a plan and the goal's own id, from
        the writer), that goal alone."""
        out = []
        for row in rows:
            plan, own = row if isinstance(row, tuple) else (row, None)
            out += [
                self._goal(plan, n, goal)
                for n, goal in enumerate(plan.goals)
                if own is None or goal.get("id") == own
            ]
        return out

    def _id_value(self, logical_id: str) -> Any:
        """The plan's id: the row a Goal is read, locked and written through."""
        parts = _split_goal_id(logical_id)
        return parts[0] if parts else None

    def _goal(self, plan: CarePlan, index: int, goal: dict[str, Any]) -> providers.Resource:
        body = goal_to_fhir(plan, goal, index)
        body["meta"] = providers.meta(1, plan.updated_at, self.profile)
        return providers.Resource("Goal", body["id"], body, 1, plan.updated_at, plan.person_id)

    def read(self, ctx: providers.Context, logical_id: str) -> providers.Resource:
        ctx.grant.require("Goal", "r")
        parts = _split_goal_id(logical_id)
        plan = None
        if parts:
            found_plans = self.scoped(ctx).filter(id=parts[0]).order_by()[:1]
            plan = next(iter(found_plans), None)
        if plan is None:
            self._refuse(ctx, parts[0] if parts else None)
        found = [r for r in self.rendered([plan]) if r.logical_id == logical_id]
        if not found:
            raise NotFound("there is no Goal with this id")
        providers.audit_reads(ctx, found, label="fhir.Goal")
        return found[0]

    def read_many(
        self, ctx: providers.Context, logical_ids: Iterable[str]
    ) -> list[providers.Resource]:
        if not ctx.grant.allows("Goal", "r"):
            return []
        wanted = set(logical_ids)
        plans = {p[0] for p in (_split_goal_id(i) for i in wanted) if p}
        if not plans:
            return []
        rows = list(self.scoped(ctx).filter(id__in=plans))
        return [r for r in self.rendered(rows) if r.logical_id in wanted]

    def search(self, ctx: providers.Context, request: fs.SearchRequest) -> providers.SearchPage:
        ctx.grant.require("Goal", "s")
        plans, tests = self._split_conditions(ctx, request)
        total = None
        if request.total or request.summary_count:
            total = self._total(plans, tests)
        if request.summary_count or request.count == 0:
            return providers.SearchPage([], total, None)
        found = list(
            itertools.islice(
                self._candidates(plans, tests, request.sort, request.cursor), request.count + 1
            )
        )
        page, more = found[: request.count], found[request.count :]
        cursor = None
        if more:
            plan, index, _ = more[0]
            keys = [*request.sort, ("id", False)]
            cursor = [*(providers._path_value(plan, path) for path, _ in keys), index]
        rows = list({plan.pk: plan for plan, _, _ in page}.values())
        current = {r.logical_id: r for r in self.rendered(rows)}  # at their current versions
        resources = [current[goal_id(plan, goal, n)] for plan, n, goal in page]
        return providers.SearchPage(resources, total, cursor, rows)

    def _split_conditions(
        self, ctx: providers.Context, request: fs.SearchRequest
    ) -> tuple[QuerySet[CarePlan], list[Callable[[str, str], bool]]]:
        """The plan-level conditions applied to the plans; the goal-level ones as tests."""
        plans = self.scoped(ctx)
        tests = []
        for raw_name, value in request.used:
            name, _, modifier = raw_name.partition(":")
            if name in fs.RESULT_PARAMS:
                continue
            if name in _GOAL_LEVEL:
                tests.append(_token_test(name, modifier, value))
            else:
                spec = self.search_params[name]
                plans = plans.filter(
                    fs.condition(spec, modifier, value, model=CarePlan, where=raw_name)
                )
        return plans, tests

    def _total(self, plans: QuerySet[CarePlan], tests: list[Callable[[str, str], bool]]) -> int:
        """How many goals match, from one unordered query of the plans' goal lists."""
        total = 0
        for plan_id, goals in plans.values_list("id", "goals"):
            for index, goal in enumerate(goals):
                key = f"{plan_id}-{goal_key(goal, index)}"
                total += all(test(key, "active") for test in tests)
        return total

    def _candidates(
        self,
        plans: QuerySet[CarePlan],
        tests: list[Callable[[str, str], bool]],
        sort: list[tuple[str, bool]],
        cursor: list[Any] | None,
    ) -> Iterator[_Candidate]:
        """The matching goals in order, from the cursor's goal on, reading plans in batches."""
        start_plan, start_index = None, 0
        if cursor is not None:
            plans, start_plan, start_index = self._resume(plans, sort, cursor)
        ordered = self.ordered(plans, sort)
        for offset in itertools.count(0, _GOAL_BATCH):
            batch = list(ordered[offset : offset + _GOAL_BATCH])
            for plan in batch:
                first = 0 if plan.pk != start_plan else start_index
                for index, goal in enumerate(plan.goals):
                    key = goal_id(plan, goal, index)
                    if index >= first and all(test(key, "active") for test in tests):
                        yield plan, index, goal
            if len(batch) < _GOAL_BATCH:
                return

    def _resume(
        self, plans: QuerySet[CarePlan], sort: list[tuple[str, bool]], cursor: list[Any]
    ) -> tuple[QuerySet[CarePlan], int, int]:
        """The plans from the cursor's plan on, that plan's id and the goal to start at."""
        keys = [*sort, ("id", False)]
        index = cursor[-1] if cursor else None
        if len(cursor) != len(keys) + 1 or type(index) is not int or index < 0:
            raise InvalidInput("the paging cursor does not fit this search", where="_cursor")
        after = fs.after(CarePlan, keys, cursor[:-1], "_cursor")
        plan_id = cursor[-2]
        if type(plan_id) is not int:
            raise InvalidInput("the paging cursor does not fit this search", where="_cursor")
        return plans.filter(Q(id=plan_id) | after), plan_id, index


def _caseload(user: User) -> QuerySet[CaseloadEntry]:
    return (
        CaseloadEntry.objects.visible_to(user)
        .select_related("team__organisation", "key_worker__organisation")
        .prefetch_related("team__members__organisation")
    )


def _tasks(user: User) -> QuerySet[Task]:
    return Task.objects.visible_to(user).select_related("owner")


def _referrals(user: User) -> QuerySet[Referral]:
    return Referral.objects.visible_to(user).select_related("team")


def register() -> None:
    providers.registered()  # the FHIR app's own first: the registry loads them when empty
    providers.register(
        providers.ModelProvider(
            resource_type="CarePlan",
            model=CarePlan,
            queryset=_plans,
            to_fhir=careplan_to_fhir,
            last_updated_field="updated_at",
            params={"patient": _patient("person_id"), "subject": _patient("person_id")},
            id_field="id",
            person_field="person_id",
            patient_param="patient",
            documentation=(
                "The shared care plan (one per person, versioned in the app), saved by its "
                "team's staff: what matters, goals, actions, contingency and review date."
            ),
            writer=CarePlanWriter(),
        )
    )
    providers.register(GoalProvider())
    providers.register(
        providers.ModelProvider(
            resource_type="CareTeam",
            model=CaseloadEntry,
            queryset=_caseload,
            to_fhir=caseload_entry_to_fhir,
            last_updated_field="updated_at",
            params={"patient": _patient("person_id"), "subject": _patient("person_id")},
            id_field="id",
            person_field="person_id",
            patient_param="patient",
            documentation=(
                "The neighbourhood team caring for a person (an entry of its caseload), its "
                "members and key worker. Created by putting a person on one of the caller's "
                "teams' caseloads; updated to change the key worker or to end the entry."
            ),
            writer=CareTeamWriter(),
        )
    )
    providers.register(
        providers.ModelProvider(
            resource_type="Task",
            model=Task,
            queryset=_tasks,
            to_fhir=task_to_fhir,
            last_updated_field="updated_at",
            params={
                "patient": _patient("person_id"),
                "status": P("status", "token", ("status",), "Status", code_map=_codes(TASK_STATUS)),
            },
            id_field="id",
            person_field="person_id",
            patient_param="patient",
            documentation=(
                "Neighbourhood team tasks: created for someone in a team the caller shares "
                "with them; updated to reassign (owner) or complete (status completed)."
            ),
            writer=TaskWriter(),
        )
    )
    providers.register(
        providers.ModelProvider(
            resource_type="ServiceRequest",
            model=Referral,
            queryset=_referrals,
            to_fhir=servicerequest_to_fhir,
            last_updated_field="updated_at",
            params={
                "patient": _patient("person_id"),
                "subject": _patient("person_id"),
                "status": P(
                    "status", "token", ("status",), "Status", code_map=_codes(REFERRAL_STATUS)
                ),
            },
            id_field="id",
            person_field="person_id",
            patient_param="patient",
            documentation=(
                "Referrals through the front door: created (sent and routed) about a Patient "
                "the caller may see; updated to add the triage note or to close an accepted "
                "referral with its outcome."
            ),
            writer=ServiceRequestWriter(),
        )
    )
