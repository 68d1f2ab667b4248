"""Organization on the FHIR facade, written as well as read, and what the written reference
types (Organization, Practitioner, PractitionerRole, Location) share.

Organisations are reference data: nearly all come from the borough's organisation register
(``core.reference.organisations_sync``, by ODS code). An administrator's system may add an
organisation the register does not hold yet (a new care home, a voluntary group) and
correct the ones it added; an organisation the register sent is the register's, and an
update of it is refused (409, as ADR 17 and 24 decided for feeds): correct it there.

Like every written reference type, it may change through the API only what the API created
(``versions.require_created_here``), and its versions come from its content, since the row
keeps no change time (``providers.UnstampedProvider``).
"""

from __future__ import annotations

import re

from joinedup.core import services as core_services
from joinedup.core.models import Organisation, OrganisationKind
from joinedup.fhir import domain, mapping
from joinedup.fhir import search as fs
from joinedup.fhir.errors import Unprocessable
from joinedup.fhir.providers import JSON, Context, ModelProvider, Resource, UnstampedProvider
from joinedup.fhir.roundtrip import text_element
from joinedup.fhir.versions import require_created_here

P = fs.SearchParam
_ODS_CODE = re.compile(r"^[A-Z0-9]{3,10}$")


# -- Organization

_KINDS = {str(label): value for value, label in OrganisationKind.choices}


def _ods_code(body: JSON) -> str:
    """The one ODS code among the identifiers."""
    identifiers = body.get("identifier")
    codes = [
        (index, item.get("value"))
        for index, item in enumerate(identifiers if isinstance(identifiers, list) else [])
        if isinstance(item, dict) and item.get("system") == mapping.ODS
    ]
    if len(codes) != 1:
        raise Unprocessable(
            f"give the organisation's ODS code, once (an identifier of system {mapping.ODS})",
            where="Organization.identifier",
        )
    index, code = codes[0]
    if not isinstance(code, str) or not _ODS_CODE.match(code):
        raise Unprocessable(
            "an ODS code is 3 to 10 capital letters and digits",
            where=f"Organization.identifier[{index}].value",
        )
    return code


def _kind(body: JSON) -> str:
    """The kind of organisation, named by its label as reads give it (``type[0].text``)."""
    types = body.get("type")
    first = types[0] if isinstance(types, list) and types else None
    text = first.get("text") if isinstance(first, dict) else None
    if not isinstance(text, str) or text not in _KINDS:
        raise Unprocessable(
            f"say what kind of organisation it is, as type[0].text: one of {', '.join(_KINDS)}",
            where="Organization.type[0].text",
        )
    return _KINDS[text]


class OrganisationWriter:
    """Organisations through core's services (administrators only, audited there)."""

    def create(self, ctx: Context, body: JSON) -> Organisation:
        return core_services.organisation_create(
            ods_code=_ods_code(body),
            name=text_element(body, "name", "Organization.name", limit=200),
            kind=_kind(body),
            created_by=ctx.user,
        )

    def update(self, ctx: Context, row: Organisation, body: JSON) -> Organisation:
        require_created_here("Organization", row.ods_code, "the organisation register")
        if _ods_code(body) != row.ods_code:
            raise Unprocessable(
                "an organisation's ODS code never changes", where="Organization.identifier"
            )
        return core_services.organisation_update(
            organisation=row,
            name=text_element(body, "name", "Organization.name", limit=200),
            kind=_kind(body),
            changed_by=ctx.user,
        )


class OrganisationProvider(UnstampedProvider):
    """Organisations by ODS code; administrators add and correct the ones the register
    does not hold. The role is checked before the write's transaction, so a refusal's
    audit event is kept."""

    def __init__(self) -> None:
        super().__init__(
            resource_type="Organization",
            model=Organisation,
            queryset=domain.organisations,
            to_fhir=mapping.organisation_to_fhir,
            last_updated_field="",
            params={
                "identifier": P(
                    "identifier", "token", ("ods_code",), "ODS code", system=mapping.ODS
                ),
                "name": P("name", "string", ("name",), "Name"),
            },
            id_field="ods_code",
            writer=OrganisationWriter(),
            documentation="Organisations of the partnership, by ODS code. Administrators may "
            "create one the organisation register does not hold (ODS code, name and kind, as "
            "type[0].text) and update the ones created here; an organisation from the register "
            "is read-only (409). lastUpdated is when the server started, or the last write.",
        )

    def create(self, ctx: Context, body: JSON) -> Resource:
        ctx.grant.require(self.resource_type, "c")
        core_services.require_staff_manager(ctx.user, "add organisations")
        return super().create(ctx, body)

    def update(self, ctx: Context, logical_id: str, body: JSON, if_match: int | None) -> Resource:
        ctx.grant.require(self.resource_type, "u")
        core_services.require_staff_manager(ctx.user, "change organisations")
        return super().update(ctx, logical_id, body, if_match)


def organisation_provider() -> ModelProvider:
    return OrganisationProvider()
