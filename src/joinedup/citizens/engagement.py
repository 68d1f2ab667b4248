"""Working with a drawn panel: invitations, replies, reminders, attendance, surveys,
and the "you said, we did" record.

Contact details are read from the register at the moment they are needed (a mail
merge, an email) and never copied onto the panel. Survey answers are stored with the
demographics they are reported by, taken from the panel's pool snapshot, and with no
link to the volunteer.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from joinedup.citizens.mail import mail_send
from joinedup.citizens.models import (
    Contact,
    MemberStatus,
    Outcome,
    Panel,
    PanelKind,
    PanelMember,
    Survey,
    SurveyResponse,
)
from joinedup.core.audit import audit_record
from joinedup.core.models import AuditAction, User
from joinedup.errors import Conflict, InvalidInput, NotFound

REPORTED_BY = ("age_band", "sex", "ethnic_group", "imd_quintile")


@dataclass(frozen=True)
class Invitation:
    subject: str
    body: str


def invitation(panel: Panel, *, details: str, given_name: str = "«given_name»") -> Invitation:
    """The invitation text, for an email or a letter (the name is a merge field by default)."""
    what = PanelKind(panel.kind).label.lower()
    body = (
        f"Dear {given_name},\n\n"
        f"You are one of {panel.size} people chosen at random from the citizens' register to "
        f"take part in a {what}: {panel.name}.\n\n{details.strip()}\n\n"
        "Everyone on the register had a fair chance of being chosen, and the group was chosen "
        "to reflect the people who live here. Please tell us whether you can take part by "
        "replying to this message or calling 0161 496 0000. You can say no, and you can "
        "leave the register at any time.\n\nThank you,\nThe engagement team\n"
    )
    return Invitation(f"An invitation to take part: {panel.name}", body)


def _send(subject: str, body: str, to: str, what: str) -> None:
    mail_send(subject=subject, body=body, to=to, what=what)


def _resource(panel: Panel) -> str:
    return f"citizens.panel:{panel.pk}"


@transaction.atomic
def invitations_send(*, user: User, panel: Panel, details: str) -> dict[str, int]:
    """Invite every drawn member: email now where that is how they asked to be contacted;
    everyone else is marked invited and is in the letters mail merge."""
    if not details.strip():
        raise InvalidInput("Say when and where it is (or how to take part)", where="details")
    members = list(panel.members.filter(status=MemberStatus.DRAWN).select_related("volunteer"))
    emailed = letters = 0
    for member in members:
        v = member.volunteer
        if v is None:
            continue
        if v.contact_preference == Contact.EMAIL and v.email:
            text = invitation(panel, details=details, given_name=v.given_name)
            address = v.email
            transaction.on_commit(
                lambda t=text, a=address: _send(t.subject, t.body, a, "invitation")  # type: ignore[misc]
            )
            emailed += 1
        else:
            letters += 1
        member.status = MemberStatus.INVITED
        member.invited_at = timezone.now()
    PanelMember.objects.bulk_update(members, ["status", "invited_at"])
    panel.audit = {**panel.audit, "invitation_details": details.strip()}
    Panel.objects.filter(pk=panel.pk).update(audit=panel.audit)
    audit_record(
        actor=user,
        action=AuditAction.UPDATE,
        resource=_resource(panel),
        reason=f"invitations: {emailed} emailed, {letters} by letter or phone",
    )
    return {"emailed": emailed, "letters": letters}


def mail_merge(*, user: User, panel: Panel) -> list[list[str]]:
    """One row per member with contact details, for letters and calls (audited export)."""
    rows = []
    for m in panel.members.exclude(status=MemberStatus.DROPPED).select_related("volunteer"):
        v = m.volunteer
        if v is None:
            continue
        rows.append(
            [
                m.ref,
                v.given_name,
                v.family_name,
                v.address_line_1,
                v.address_line_2,
                v.town,
                v.postcode,
                v.email,
                v.phone,
                v.contact_preference,
                m.get_status_display(),
            ]
        )
    audit_record(
        actor=user,
        action=AuditAction.EXPORT,
        resource=_resource(panel),
        reason=f"mail merge of {len(rows)} members",
    )
    return rows


MAIL_MERGE_COLUMNS = (
    "ref", "given_name", "family_name", "address_line_1", "address_line_2", "town",
    "postcode", "email", "phone", "contact_preference", "status",
)  # fmt: skip


def _member(panel: Panel, ref: str) -> PanelMember:
    found = panel.members.filter(ref=ref).first()
    if found is None:
        raise NotFound("that volunteer is not on this panel")
    return found


@transaction.atomic
def member_update(
    *, user: User, panel: Panel, ref: str, reply: str = "", attended: str = ""
) -> PanelMember:
    """Record a reply (accepted or declined) and/or attendance (yes or no)."""
    member = _member(panel, ref)
    if reply:
        if reply not in {MemberStatus.ACCEPTED, MemberStatus.DECLINED}:
            raise InvalidInput("Choose accepted or declined", where="reply")
        member.status, member.replied_at = reply, timezone.now()
    if attended:
        if attended not in {"yes", "no"}:
            raise InvalidInput("Choose whether they attended", where="attended")
        member.attended = attended == "yes"
    member.save()
    audit_record(
        actor=user,
        action=AuditAction.UPDATE,
        resource=_resource(panel),
        reason=f"{ref}: reply {reply or '-'}, attended {attended or '-'}",
    )
    return member


@transaction.atomic
def reminders_send(*, user: User, panel: Panel) -> int:
    """Remind everyone invited who has not replied (email where they chose it)."""
    waiting = list(panel.members.filter(status=MemberStatus.INVITED).select_related("volunteer"))
    details = panel.audit.get("invitation_details", "")
    for member in waiting:
        v = member.volunteer
        if v is not None and v.contact_preference == Contact.EMAIL and v.email:
            text = invitation(panel, details=details, given_name=v.given_name)
            address = v.email
            transaction.on_commit(
                lambda t=text, a=address: _send("Reminder: " + t.subject, t.body, a, "reminder")  # type: ignore[misc]
            )
        member.reminders += 1
        member.last_reminded_at = timezone.now()
    PanelMember.objects.bulk_update(waiting, ["reminders", "last_reminded_at"])
    audit_record(
        actor=user,
        action=AuditAction.UPDATE,
        resource=_resource(panel),
        reason=f"reminders: {len(waiting)}",
    )
    return len(waiting)


def _questions(text: str) -> list[dict[str, object]]:
    """One question a line: ``Question text | option; option; option``."""
    questions: list[dict[str, object]] = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        question, _, options = line.partition("|")
        choices = [o.strip() for o in options.split(";") if o.strip()]
        if not question.strip() or len(choices) < 2:
            raise InvalidInput(
                f"line {n}: write a question, a bar, then at least two options "
                "separated by semicolons",
                where="questions",
            )
        questions.append({"text": question.strip(), "options": choices})
    if not questions:
        raise InvalidInput("Add at least one question", where="questions")
    return questions


@transaction.atomic
def survey_create(*, user: User, panel: Panel, title: str, questions: str) -> Survey:
    if not title.strip():
        raise InvalidInput("Enter a title for the survey", where="title")
    survey = Survey.objects.create(
        panel=panel, title=title.strip()[:200], questions=_questions(questions)
    )
    audit_record(actor=user, action=AuditAction.CREATE, resource=f"citizens.survey:{survey.pk}")
    return survey


@transaction.atomic
def survey_response_record(
    *, user: User, survey: Survey, ref: str, answers: list[str]
) -> SurveyResponse:
    """One member's answers (from a form, a call or a paper return)."""
    member = _member(survey.panel, ref)
    if member.responded_at is not None:
        raise Conflict("this member's response has already been recorded")
    if len(answers) != len(survey.questions):
        raise InvalidInput("Answer every question", where="answers")
    for n, (q, a) in enumerate(zip(survey.questions, answers, strict=True)):
        if a not in q["options"]:
            raise InvalidInput(f"Choose an answer to question {n + 1}", where=f"q{n}")
    header = survey.panel.audit["pool"]["header"]
    row = next(r for r in survey.panel.audit["pool"]["rows"] if r[0] == ref)
    values = dict(zip(header, row, strict=True))
    demographics = {f: values[f] for f in REPORTED_BY if f in values}
    response = SurveyResponse.objects.create(
        survey=survey, answers=answers, demographics=demographics
    )
    member.responded_at = timezone.now()
    member.save(update_fields=["responded_at"])
    audit_record(
        actor=user,
        action=AuditAction.CREATE,
        resource=f"citizens.survey:{survey.pk}",
        reason="response recorded",
    )
    return response


@dataclass(frozen=True)
class Result:
    question: str
    options: tuple[str, ...]
    total: tuple[int, ...]
    groups: tuple[tuple[str, tuple[int, ...]], ...]  # (demographic value, counts per option)


SMALL = 5  # groups smaller than this are not shown on their own, so no one is singled out


def survey_results(*, survey: Survey, by: str) -> list[Result]:
    """Counts per option, overall and by one demographic (small groups merged)."""
    responses = list(survey.responses.all())
    out = []
    for n, q in enumerate(survey.questions):
        options = tuple(q["options"])
        total = Counter(r.answers[n] for r in responses)
        grouped: dict[str, Counter[str]] = defaultdict(Counter)
        for r in responses:
            grouped[str(r.demographics.get(by, "Not known"))][r.answers[n]] += 1
        rows, other = [], Counter[str]()
        for value in sorted(grouped):
            if sum(grouped[value].values()) < SMALL:
                other.update(grouped[value])
            else:
                rows.append((value, tuple(grouped[value][o] for o in options)))
        if other:
            rows.append((f"Groups under {SMALL} together", tuple(other[o] for o in options)))
        out.append(Result(q["text"], options, tuple(total[o] for o in options), tuple(rows)))
    return out


def decision_choices() -> list[tuple[str, str]]:
    """The portfolio office's decisions, newest first, as (code, short text) to choose from."""
    from joinedup.portfolio import selectors as portfolio

    return [(d.code, f"{d.code}: {d.decision[:80]}") for d in portfolio.decisions()]


@transaction.atomic
def outcome_record(
    *, user: User, panel: Panel | None, you_said: str, we_did: str, decision_code: str = ""
) -> Outcome:
    """A 'you said, we did' entry, linked (optionally) to a portfolio office decision,
    which must exist there."""
    if not you_said.strip():
        raise InvalidInput("Say what people told us", where="you_said")
    if not we_did.strip():
        raise InvalidInput("Say what was done about it", where="we_did")
    code = decision_code.strip()
    if code and code not in dict(decision_choices()):
        raise InvalidInput(
            f"There is no portfolio decision {code[:20]!r}: choose one from the list",
            where="decision_code",
        )
    outcome = Outcome.objects.create(
        panel=panel,
        you_said=you_said.strip(),
        we_did=we_did.strip(),
        decision_code=code,
        recorded_by=user,
    )
    audit_record(actor=user, action=AuditAction.CREATE, resource=f"citizens.outcome:{outcome.pk}")
    return outcome
