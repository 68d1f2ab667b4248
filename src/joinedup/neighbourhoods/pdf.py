"""MDT minutes as a PDF (fpdf2, core fonts). It lays out what the minutes page shows:
the caller has already scoped the items to the user and audited the export."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils import timezone
from fpdf import FPDF

from joinedup.core.models import User
from joinedup.core.nhs_number import format_for_display
from joinedup.neighbourhoods.models import AgendaReason, MdtItem, MdtMeeting

_REASONS = dict(AgendaReason.choices)


def _latin(text: str) -> str:
    """The core fonts cover Latin-1: anything else is shown as '?' rather than failing."""
    swaps = {
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": "-",
        "\u2014": "-",
    }
    for old, new in swaps.items():
        text = text.replace(old, new)
    return text.encode("latin-1", "replace").decode("latin-1")


def _name(user: User) -> str:
    return user.get_full_name() or user.username


def minutes_pdf(
    *, meeting: MdtMeeting, items: Sequence[MdtItem], attendees: Sequence[User]
) -> bytes:
    doc = FPDF(format="A4")
    doc.set_title(_latin(f"MDT minutes, {meeting.team.name}"))
    doc.add_page()
    width = doc.epw
    doc.set_font("Helvetica", "B", 16)
    doc.multi_cell(width, 8, _latin(f"MDT minutes: {meeting.team.name}"))
    doc.set_font("Helvetica", "", 11)
    when = timezone.localtime(meeting.starts_at)
    doc.multi_cell(width, 6, _latin(f"{when:%A %-d %B %Y, %H:%M}  {meeting.location}"))
    people = ", ".join(_name(a) for a in attendees) or "Not recorded"
    if meeting.other_attendees:
        people += f"; also {meeting.other_attendees}"
    doc.multi_cell(width, 6, _latin(f"Attendees: {people}"))
    doc.multi_cell(width, 6, "Confidential: contains personal data. Do not forward.")
    for item in items:
        doc.ln(3)
        doc.set_font("Helvetica", "B", 12)
        doc.multi_cell(width, 7, _latin(f"{item.position}. {_subject(item)}"))
        doc.set_font("Helvetica", "", 11)
        doc.multi_cell(width, 6, _latin(f"{_REASONS.get(item.reason, item.reason)}: {item.detail}"))
        doc.multi_cell(width, 6, _latin(f"Discussion: {item.discussion or 'Not discussed'}"))
        for decision in item.decisions.all():
            tasks = "; ".join(
                f"{_name(t.owner)} by {t.due_on:%-d %b %Y}" for t in decision.tasks.all()
            )
            doc.multi_cell(width, 6, _latin(f"Decision: {decision.text} ({tasks})"))
    return bytes(doc.output())


def _subject(item: MdtItem) -> str:
    if item.person is not None:
        number = item.person.nhs_number
        shown = format_for_display(number) if number else "NHS number not known"
        return f"{item.person.display_name} ({shown})"
    if item.referral is not None:
        return f"Referral {item.referral.reference}: {item.referral.display_name}"
    return "Item"
