"""E-mails the school sends: the weekly family digest and set-password links, rendered from templates/email/
and handed to services.mail (SMTP, or .eml files in the outbox).

A digest shows a child's record to their guardian, so each one sent writes a disclosure row per child
(`view.digest`), like a page would.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

from flask import current_app, g, has_request_context, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from gradebook.models import LANGUAGES, School, User, utcnow
from gradebook.services import ServiceError
from gradebook.services.accounts import issue_set_password_link
from gradebook.services.audit import record_disclosures
from gradebook.services.digest import family_digest, guardians_to_write_to
from gradebook.services.mail import MailSettings, compose, send, send_after_commit


@dataclass
class DigestReport:
    sent: int = 0
    quiet: int = 0  # nothing new for any child: no e-mail
    where: str = ""
    recipients: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return (f"{self.sent} digest{'s' if self.sent != 1 else ''} {self.where or 'sent'}; "
                f"{self.quiet} famil{'ies' if self.quiet != 1 else 'y'} had nothing new.")


def settings() -> MailSettings:
    return MailSettings.from_config(current_app.config)


def _base_url(base_url: str | None) -> str:
    return (base_url or current_app.config.get("BASE_URL") or "http://127.0.0.1:5000").rstrip("/")


def _render(template: str, base_url: str | None = None, **context: Any) -> str:
    """Render an e-mail template; outside a request (the CLI, a job) in a request context for the app's own
    address, so templates and their context processors behave as on a page."""
    if not has_request_context():
        with current_app.test_request_context("/", base_url=_base_url(base_url)):
            return _render(template, base_url, **context)
    plain, g._plain_text = g.get("_plain_text"), template.endswith(".txt")  # school words without HTML marks
    try:
        return render_template(template, **context)
    finally:
        g._plain_text = plain


@contextmanager
def _in_language(language: str | None, base_url: str | None) -> Iterator[str]:
    """Speak the guardian's language (their account's, else the school default) while the e-mail is made:
    our words through Flask-Babel, school data through the page helpers, the path sentences from the core."""
    locale = language if language in LANGUAGES else current_app.config.get("BABEL_DEFAULT_LOCALE", "en")
    if has_request_context():
        with force_locale(locale):
            g.pop("_school_translations", None)
            yield locale
        g.pop("_school_translations", None)
        return
    with current_app.test_request_context("/", base_url=_base_url(base_url)), force_locale(locale):
        g.pop("_school_translations", None)
        yield locale
        g.pop("_school_translations", None)


def digest_message(session: Session, guardian: User, *, since: datetime, until: datetime,
                   base_url: str | None = None, sender: str | None = None) -> tuple[EmailMessage, list[int]] | None:
    """The digest e-mail for one guardian and the children it shows, or None when there is nothing new;
    in the guardian's language."""
    with _in_language(guardian.language, base_url) as language:
        digest = family_digest(session, guardian, since, until)
        if not digest.has_news:
            return None
        context: dict[str, Any] = {"digest": digest, "family_url": _base_url(base_url) + "/family"}
        names = _(" and ").join(c.child.first_name for c in digest.children if c.has_news)
        message = compose(to=guardian.email or "", to_name=guardian.name, subject=_("This week at school: %(names)s", names=names),
                          text=_render("email/digest.txt", base_url, **context),
                          html=_render("email/digest.html", base_url, **context),
                          sender=sender or settings().sender, language=language)
    return message, [c.child.id for c in digest.children if c.has_news]


def send_digests(session: Session, *, days: int = 7, until: datetime | None = None,
                 base_url: str | None = None) -> DigestReport:
    """Every guardian with an e-mail address gets the last ``days`` days of their children's news (nobody gets
    an empty digest); the disclosures are recorded in the same transaction."""
    until = until or utcnow()
    since = until - timedelta(days=days)
    report = DigestReport()
    mail = settings()
    messages = []
    for guardian in guardians_to_write_to(session):
        built = digest_message(session, guardian, since=since, until=until, base_url=base_url, sender=mail.sender)
        if built is None:
            report.quiet += 1
            continue
        message, children = built
        messages.append(message)
        report.recipients.append(guardian.email or "")
        record_disclosures(session, guardian.id, children, "digest", detail={"route": "send-digests"})
    report.where = send(mail, messages)
    report.sent = len(messages)
    return report


def set_password_message(session: Session, user: User, url: str, *, days: int = 14, sender: str | None = None,
                         base_url: str | None = None, school: str | None = None) -> EmailMessage:
    """The set-password e-mail for one account, in the person's language (their account's, else the school's)."""
    if not user.email:
        raise ServiceError(f"{user.name} has no e-mail address: give them the link in person.")
    if school is None:
        school = session.scalar(select(School.name).order_by(School.id).limit(1))
    with _in_language(user.language, base_url) as language:
        return compose(to=user.email, to_name=user.name, subject=_("Set your gradebook password"),
                       text=_render("email/set_password.txt", base_url, user=user, url=url, days=days, school=school),
                       sender=sender or settings().sender, language=language)


def email_set_password_link(session: Session, user: User, url: str, *, days: int = 14) -> str:
    """E-mail a one-time set-password link to the account's own address once the caller commits (a refused
    server is a ServiceError now); returns where it goes."""
    mail = settings()
    return send_after_commit(session, mail, [set_password_message(session, user, url, days=days, sender=mail.sender)])


def email_set_password_links(session: Session, users: list[User], *, actor: User | None = None, days: int = 14,
                             base_url: str | None = None) -> str:
    """A one-time set-password link by e-mail to each of these accounts (each has an address), each in the
    person's language, over one connection (or into the outbox); returns where they went. The tokens are
    issued in the caller's transaction and the mail goes once the caller commits it (services/mail.py
    send_after_commit): a refused mail server is a ServiceError before the commit, so the caller rolls them
    back; a failed commit sends nothing."""
    school = session.scalar(select(School.name).order_by(School.id).limit(1))
    mail = settings()
    root = _base_url(base_url)
    messages = [set_password_message(session, user,
                                     f"{root}/set-password/{issue_set_password_link(session, user, days=days, actor=actor)}",
                                     days=days, sender=mail.sender, base_url=base_url, school=school or "")
                for user in users]
    return send_after_commit(session, mail, messages)
