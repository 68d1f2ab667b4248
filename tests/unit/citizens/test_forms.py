"""A volunteer's details checked field by field: the same rules for the web and imports."""

from __future__ import annotations

from typing import Any

from joinedup.citizens.forms import volunteer_clean


def _raw(**extra: Any) -> dict[str, Any]:
    data = {
        "given_name": "  Ada ",
        "family_name": "Lovelace",
        "email": "Ada@Example.ORG",
        "postcode": "sk41aa",
        "age_band": "35-44",
        "sex": "F",
        "gender_same_as_sex": "yes",
        "ethnic_group": "Mixed",
        "disability": "No",
        "carer": "No",
        "tenure": "Owned",
        "contact_preference": "Email",
        "consent": "yes",
    }
    return data | extra


def _clean(raw: dict[str, Any], **options: Any) -> Any:
    return volunteer_clean(raw, postcode_known=lambda p: p == "SK4 1AA", **options)


def test_clean_details_are_tidied_and_accepted() -> None:
    cleaned = _clean(_raw(), interests=["Carers", "Urgent care"])

    assert cleaned.ok
    assert cleaned.values["given_name"] == "Ada"
    assert cleaned.values["email"] == "ada@example.org"
    assert cleaned.values["postcode"] == "SK4 1AA"
    assert cleaned.values["interests"] == ["Urgent care", "Carers"]  # the list's own order


def test_each_bad_field_gets_its_own_message() -> None:
    cleaned = _clean(
        _raw(given_name="", email="ada@", sex="X", age_band="15", consent=""),
        interests=["Astrology"],
    )

    assert set(cleaned.errors) == {
        "given_name",
        "email",
        "sex",
        "age_band",
        "consent",
        "interests",
    }
    assert cleaned.errors["email"].startswith("Enter an email address in the correct format")


def test_postcode_must_be_real_and_in_the_borough() -> None:
    assert _clean(_raw(postcode="")).errors["postcode"] == "Enter your postcode"
    assert "real postcode" in _clean(_raw(postcode="12345")).errors["postcode"]
    assert "in the borough" in _clean(_raw(postcode="M1 1AE")).errors["postcode"]


def test_the_chosen_way_of_contact_needs_its_detail() -> None:
    by_phone = _clean(_raw(contact_preference="Phone"))
    by_post = _clean(_raw(contact_preference="Post"))
    nothing = _clean(_raw(email="", contact_preference="Email"))

    assert "phone" in by_phone.errors
    assert "address_line_1" in by_post.errors
    assert nothing.errors["email"] == "Give an email address, a phone number or a postal address"


def test_consent_is_not_asked_again_when_changing_details() -> None:
    assert _clean(_raw(consent=""), require_consent=False).ok
