"""The front door: drafts, validation, routing by rules, triage, acceptance, redirection,
service-level timers, and what the referrer sees."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from joinedup.core.models import AuditEvent, User
from joinedup.neighbourhoods import services
from joinedup.neighbourhoods.errors import TransitionRefused
from joinedup.neighbourhoods.models import CaseloadEntry, Referral, ReferralStatus, RoutingRule
from joinedup.people.models import CareRelationship, Person, RelationshipKind

pytestmark = pytest.mark.django_db

Form = Callable[..., dict[str, str]]


def _send(client: Client, form: dict[str, str]) -> Referral:
    response = client.post("/neighbourhoods/refer/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    return Referral.objects.for_system("test").latest("id")


def test_referral_routes_to_the_int_of_the_postcode_neighbourhood(
    place, signed_in: Callable[[User], Client], referral_form: Form
) -> None:
    referral = _send(signed_in(place.gp), referral_form())

    assert referral.status == ReferralStatus.RECEIVED
    assert referral.team == place.central
    assert referral.triage_due_at is not None
    assert referral.events.count() == 1
    assert AuditEvent.objects.filter(
        resource=f"neighbourhoods.referral:{referral.pk}", action="create"
    ).exists()


def test_a_routing_rule_sends_a_need_to_a_named_team(
    place, signed_in: Callable[[User], Client], referral_form: Form
) -> None:
    RoutingRule.objects.create(
        name="Equipment to Heatons", priority=1, need="mobility", team=place.heatons
    )

    mobility = _send(signed_in(place.gp), referral_form(need="mobility"))
    nursing = _send(signed_in(place.gp), referral_form(need="nursing"))

    assert mobility.team == place.heatons
    assert mobility.rule is not None
    assert nursing.team == place.central


def test_half_filled_referral_is_kept_as_a_draft_with_field_errors(
    place, signed_in: Callable[[User], Client], referral_form: Form
) -> None:
    client = signed_in(place.gp)
    response = client.post(
        "/neighbourhoods/refer/", referral_form(postcode="", need="", **{"dob-month": "13"})
    )

    assert response.status_code == 400
    body = response.content.decode()
    assert 'href="#postcode"' in body
    assert 'href="#need"' in body
    assert 'href="#dob-day"' in body
    draft = Referral.objects.for_system("test").get()
    assert draft.status == ReferralStatus.DRAFT
    assert draft.form["given_name"] == "Edith"
    assert draft.form["dob-month"] == "13"
    # The draft can be finished later from the referrer's own list.
    listing = client.get("/neighbourhoods/referrals/").content.decode()
    assert str(draft.draft_token) in listing
    page = client.get(f"/neighbourhoods/refer/?draft={draft.draft_token}").content.decode()
    assert 'value="Edith"' in page


def test_someone_elses_draft_cannot_be_opened(
    place, signed_in: Callable[[User], Client], referral_form: Form
) -> None:
    signed_in(place.gp).post("/neighbourhoods/refer/", referral_form(postcode=""))
    draft = Referral.objects.for_system("test").get()

    page = signed_in(place.nurse).get(f"/neighbourhoods/refer/?draft={draft.draft_token}")

    assert "Edith" not in page.content.decode()


def test_a_resident_can_refer_without_signing_in_and_see_where_it_went(
    place, referral_form: Form
) -> None:
    client = Client()
    form = referral_form(referrer_kind="self", referrer_name="Edith Referred")
    response = client.post("/neighbourhoods/refer/", form)
    assert response.status_code == 302
    status = client.get(response["Location"])

    assert status.status_code == 200
    assert "Central INT" in status.content.decode()


def test_referral_is_matched_to_the_person_by_nhs_number(
    place,
    signed_in: Callable[[User], Client],
    referral_form: Form,
    make_person: Callable[..., Person],
) -> None:
    person = make_person(postcode="SK4 1AA")

    referral = _send(
        signed_in(place.gp), referral_form(nhs_number=person.nhs_number, postcode="SK1 3XE")
    )

    assert referral.person == person
    # The person's own address decides the neighbourhood, not the postcode typed.
    assert referral.team == place.heatons


def test_triage_then_accept_starts_the_referral_relationship_and_caseload(
    place, signed_in: Callable[[User], Client], referral_form: Form
) -> None:
    referral = _send(signed_in(place.gp), referral_form())
    nurse = signed_in(place.nurse)

    nurse.post(f"/neighbourhoods/referrals/{referral.pk}/triage/", {"note": "Needs DN visits"})
    nurse.post(
        f"/neighbourhoods/referrals/{referral.pk}/accept/",
        {"caseload_reason": "Leg ulcer care", "key_worker": str(place.nurse.pk)},
    )

    referral.refresh_from_db()
    assert referral.status == ReferralStatus.ACCEPTED
    assert referral.person is not None  # unknown to the index: registered from the referral
    kinds = set(
        CareRelationship.objects.filter(person=referral.person, team=place.central).values_list(
            "kind", flat=True
        )
    )
    assert kinds == {RelationshipKind.REFERRAL, RelationshipKind.CASELOAD}
    entry = CaseloadEntry.objects.for_system("test").get(person=referral.person)
    assert entry.key_worker == place.nurse
    assert Person.objects.visible_to(place.nurse).filter(id=referral.person.id).exists()


def test_misrouted_referral_is_redirected_with_a_reason_and_the_referrer_sees_it(
    place, signed_in: Callable[[User], Client], referral_form: Form
) -> None:
    gp = signed_in(place.gp)
    referral = _send(gp, referral_form())
    nurse = signed_in(place.nurse)

    refused = nurse.post(
        f"/neighbourhoods/referrals/{referral.pk}/redirect/",
        {"team": str(place.heatons.pk), "reason": ""},
    )
    assert refused.status_code == 400
    nurse.post(
        f"/neighbourhoods/referrals/{referral.pk}/redirect/",
        {"team": str(place.heatons.pk), "reason": "Lives in Heatons since March"},
    )

    referral.refresh_from_db()
    assert referral.team == place.heatons
    assert referral.status == ReferralStatus.REDIRECTED
    # The receiving team sees it; the declining team no longer does.
    assert (
        "Referred".upper()
        in signed_in(place.ot).get(f"/neighbourhoods/teams/{place.heatons.pk}/").content.decode()
    )
    assert nurse.get(f"/neighbourhoods/referrals/{referral.pk}/").status_code == 404
    # The referrer sees where it went and why.
    page = gp.get(f"/neighbourhoods/refer/{referral.draft_token}/").content.decode()
    assert "Heatons INT" in page
    assert "Lives in Heatons since March" in page


def test_a_referral_cannot_skip_triage(place, referral_form: Form) -> None:
    referral = services.referral_submit(
        referral=services.referral_draft_save(form=referral_form(), user=place.gp), user=place.gp
    )
    with pytest.raises(TransitionRefused):
        services.referral_accept(user=place.nurse, referral_id=referral.pk)


def test_other_teams_cannot_act_on_a_referral(
    place, signed_in: Callable[[User], Client], referral_form: Form
) -> None:
    referral = _send(signed_in(place.gp), referral_form())

    response = signed_in(place.ot).post(
        f"/neighbourhoods/referrals/{referral.pk}/triage/", {"note": "x"}
    )

    assert response.status_code == 404
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.RECEIVED


def test_breached_service_level_is_highlighted(
    place, signed_in: Callable[[User], Client], referral_form: Form
) -> None:
    referral = _send(signed_in(place.gp), referral_form(urgency="urgent"))
    Referral.objects.for_system("test").filter(id=referral.pk).update(
        triage_due_at=timezone.now() - timedelta(hours=2)
    )

    page = signed_in(place.nurse).get(f"/neighbourhoods/teams/{place.central.pk}/").content.decode()

    assert "Breached" in page
    assert "Triage overdue" in page


def test_unrouted_referral_waits_for_a_care_coordinator(
    place, signed_in: Callable[[User], Client], referral_form: Form
) -> None:
    referral = _send(signed_in(place.gp), referral_form(postcode="M1 1AA"))
    assert referral.team is None

    listing = signed_in(place.coordinator).get("/neighbourhoods/referrals/").content.decode()
    assert referral.reference in listing
    signed_in(place.coordinator).post(
        f"/neighbourhoods/referrals/{referral.pk}/redirect/",
        {"team": str(place.heatons.pk), "reason": "Address is in Heatons"},
    )
    referral.refresh_from_db()
    assert referral.team == place.heatons


def test_routing_rules_are_edited_by_administrators_only(
    place, signed_in: Callable[[User], Client]
) -> None:
    form = {
        "name": "Children to Heatons",
        "priority": "5",
        "max_age": "17",
        "team": str(place.heatons.pk),
        "active": "yes",
    }

    assert signed_in(place.nurse).post("/neighbourhoods/routing/new/", form).status_code == 403
    assert (
        signed_in(place.admin)
        .post("/neighbourhoods/routing/new/", {**form, "max_age": "x"})
        .status_code
        == 400
    )
    assert signed_in(place.admin).post("/neighbourhoods/routing/new/", form).status_code == 302

    rule = RoutingRule.objects.get()
    assert rule.max_age == 17
    assert rule.team == place.heatons
    assert AuditEvent.objects.filter(resource=f"neighbourhoods.routing_rule:{rule.pk}").exists()


def test_a_professional_suggests_a_directory_service_and_the_team_sees_it(
    place, signed_in: Callable[[User], Client], referral_form: Form
) -> None:
    from joinedup.directory.models import Organization, Service

    service = Service.objects.create(
        name="Steady Steps falls prevention",
        description="Strength and balance classes",
        status="active",
        organization=Organization.objects.create(name="Age Well", description="A charity"),
        last_modified=timezone.now(),
    )
    gp = signed_in(place.gp)

    to_directory = gp.post("/neighbourhoods/refer/", {**referral_form(), "action": "directory"})
    draft = Referral.objects.for_system("test").latest("id")
    back = gp.get(
        f"/neighbourhoods/refer/?draft={draft.draft_token}&directory_service={service.id}"
    ).content.decode()
    sent = _send(
        gp,
        {**referral_form(), "token": str(draft.draft_token), "directory_service": str(service.id)},
    )
    nurse_view = (
        signed_in(place.nurse).get(f"/neighbourhoods/referrals/{sent.pk}/").content.decode()
    )

    assert to_directory.status_code == 302
    assert to_directory["Location"].startswith("/directory/?return_to=")
    assert str(draft.draft_token) in to_directory["Location"]
    assert "You suggested <strong>Steady Steps falls prevention</strong>" in back
    assert sent.pk == draft.pk
    assert sent.form["directory_service"] == str(service.id)
    assert "Service suggested by the referrer" in nurse_view
    assert "Steady Steps falls prevention" in nurse_view


def test_a_directory_service_that_is_gone_is_dropped_from_the_form(
    place, signed_in: Callable[[User], Client]
) -> None:
    page = (
        signed_in(place.gp)
        .get("/neighbourhoods/refer/?directory_service=00000000-0000-0000-0000-000000000000")
        .content.decode()
    )

    assert "You suggested" not in page
    assert "Find a service in the directory" in page
