"""Families hear about it: the weekly digest and set-password links by e-mail, delivered to a real SMTP server
started by the test (aiosmtpd), or written to the outbox when no server is set."""

from __future__ import annotations

import email
import io
import socket
from collections.abc import Iterator
from datetime import date, timedelta
from email.message import Message

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from gradebook.extensions import db
from gradebook.interop.mail_out import send_digests
from gradebook.models import Activity, AuditEvent, Evidence, PasswordReset, utcnow
from tests.builders import make_evidence, make_section, make_user


class Inbox:
    """An aiosmtpd handler that keeps every message it is given."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]  # noqa: N802
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp(app: Flask) -> Iterator[Inbox]:
    """A local SMTP server, and the app pointed at it for the test."""
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    try:
        yield inbox
    finally:
        app.config.update(MAIL_SERVER=None, MAIL_PORT=25)
        controller.stop()


def body(message: Message, kind: str = "text/plain") -> str:
    for part in message.walk():
        if part.get_content_type() == kind:
            return part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
    raise AssertionError(f"no {kind} part")


def a_week_of_news():  # type: ignore[no-untyped-def]
    world = make_section(students=1, standards=2, guardians=True)
    child, guardian = world.students[0], world.guardians[0]
    old = make_evidence(world, child, world.standards[0], 2, on=date.today() - timedelta(days=20))
    db.session.execute(Evidence.__table__.update().where(Evidence.id == old.id).values(
        recorded_at=utcnow() - timedelta(days=20), updated_at=utcnow() - timedelta(days=20)))
    db.session.commit()
    make_evidence(world, child, world.standards[0], 4, on=date.today() - timedelta(days=2),
                  feedback="Your lab write-up explained every step.")
    make_evidence(world, child, world.standards[1], 2, on=date.today() - timedelta(days=1))
    db.session.add(Activity(section_id=world.section.id, competency_id=world.standards[1].id,
                            title="Measure things in the kitchen together", minutes=15, for_home=True,
                            created_by=world.teacher.id))
    db.session.commit()
    return world, child, guardian


def test_the_weekly_digest_reaches_the_guardian_over_smtp(app: Flask, smtp: Inbox) -> None:
    world, child, guardian = a_week_of_news()
    report = send_digests(db.session, base_url="https://school.example")
    db.session.commit()
    assert report.sent == 1 and "sent through 127.0.0.1" in str(report)
    [message] = smtp.messages
    assert message["To"].endswith(f"<{guardian.email}>")
    assert child.first_name in message["Subject"]
    text = body(message)
    assert "Your lab write-up explained every step." in text        # new feedback
    assert "Approaching -> Meets (up)" in text                       # a level that moved (2, then 4)
    assert "first level: Approaching" in text                         # a first level is news too
    assert "Do skill 2 well." in text and "Level 3 on skill 2." in text  # what is next: the next level's descriptor
    assert "Measure things in the kitchen together" in text         # how to help at home
    assert "https://school.example/family" in text
    assert "Your lab write-up explained every step." in body(message, "text/html")


def test_a_digest_is_a_disclosure_in_the_audit_log(app: Flask, smtp: Inbox) -> None:
    world, child, guardian = a_week_of_news()
    send_digests(db.session)
    db.session.commit()
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "view.digest")).one()
    assert (event.actor_id, event.student_id) == (guardian.id, child.id)


def test_a_family_with_nothing_new_gets_no_email(app: Flask, smtp: Inbox) -> None:
    make_section(students=1, standards=2, guardians=True)
    report = send_digests(db.session)
    assert (report.sent, report.quiet) == (0, 1) and smtp.messages == []


def test_without_smtp_settings_mail_is_written_to_the_outbox(app: Flask, tmp_path) -> None:  # type: ignore[no-untyped-def]
    a_week_of_news()
    app.config["MAIL_OUTBOX"], before = str(tmp_path / "outbox"), app.config["MAIL_OUTBOX"]
    try:
        report = send_digests(db.session)
    finally:
        app.config["MAIL_OUTBOX"] = before
    files = list((tmp_path / "outbox").glob("*.eml"))
    assert report.sent == 1 and len(files) == 1
    assert "Your lab write-up explained every step." in body(email.message_from_bytes(files[0].read_bytes()))


def test_the_send_digests_command_reports_what_it_did(app: Flask, smtp: Inbox) -> None:
    a_week_of_news()
    result = app.test_cli_runner().invoke(args=["gradebook", "send-digests", "--days", "7"])
    assert result.exit_code == 0, result.output
    assert "1 digest sent through" in result.output and len(smtp.messages) == 1


def test_an_smtp_server_that_refuses_is_a_clear_error(app: Flask) -> None:
    a_week_of_news()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=_free_port())
    try:
        result = app.test_cli_runner().invoke(args=["gradebook", "send-digests"])
    finally:
        app.config.update(MAIL_SERVER=None, MAIL_PORT=25)
    assert result.exit_code == 1 and "did not take the mail" in result.output
    assert db.session.scalars(select(AuditEvent).where(AuditEvent.action == "view.digest")).first() is None


# ------------------------------------------------------------------ set-password links by e-mail

def test_a_set_password_link_is_emailed_and_not_shown_to_the_admin(client: FlaskClient, login_as, smtp: Inbox) -> None:
    login_as(make_user("admin"))
    response = client.post("/admin/users", data={"name": "New Parent", "email": "parent@example.org",
                                                 "role": "guardian"}, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "was e-mailed to parent@example.org" in html and "/set-password/" not in html
    [message] = smtp.messages
    assert message["To"].endswith("<parent@example.org>")
    link = next(line for line in body(message).splitlines() if "/set-password/" in line).strip()
    token = link.rsplit("/", 1)[1]
    assert client.get(f"/set-password/{token}").status_code == 200


def test_the_admin_page_says_the_link_goes_by_email(client: FlaskClient, login_as, smtp: Inbox) -> None:
    login_as(make_user("admin"))
    parent = make_user("guardian")
    page = client.get(f"/admin/users/{parent.id}").get_data(as_text=True)
    assert f"The link goes by e-mail to {parent.email}" in page
    response = client.post(f"/admin/users/{parent.id}", data={"action": "password_link"}, follow_redirects=True)
    assert "was e-mailed to" in response.get_data(as_text=True) and len(smtp.messages) == 1


def test_an_account_without_email_still_gets_its_link_shown_once(client: FlaskClient, login_as) -> None:
    login_as(make_user("admin"))
    from gradebook.services.accounts import create_user

    young = create_user(db.session, email=None, username="kid07", name="Kid Seven", role="student")
    db.session.commit()
    response = client.post(f"/admin/users/{young.id}", data={"action": "password_link"}, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "has no e-mail address" in html and "/set-password/" in html


def test_a_refused_email_leaves_no_link_behind(client: FlaskClient, login_as, app: Flask) -> None:
    login_as(make_user("admin"))
    parent = make_user("guardian")
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=_free_port())
    try:
        response = client.post(f"/admin/users/{parent.id}", data={"action": "password_link"})
    finally:
        app.config.update(MAIL_SERVER=None, MAIL_PORT=25)
    assert response.status_code == 422 and "did not take the mail" in response.get_data(as_text=True)
    assert db.session.scalars(select(PasswordReset).where(PasswordReset.user_id == parent.id)).first() is None


def test_a_spanish_speaking_guardian_gets_the_digest_in_spanish(app: Flask, smtp: Inbox) -> None:
    world, child, guardian = a_week_of_news()
    guardian.language = "es"
    db.session.commit()
    send_digests(db.session, base_url="https://school.example")
    db.session.commit()
    [message] = smtp.messages
    assert message["Content-Language"] == "es"
    assert message["Subject"].startswith("Esta semana en la escuela")
    text = body(message)
    assert "Hola" in text and "Cómo puede ayudar en casa:" in text and "How you can help" not in text
    assert 'lang="es"' in body(message, "text/html")
    # The school's words (no Spanish entered here) as written: marked in the HTML, plain in the text.
    assert '<span lang="en">Your lab write-up explained every step.</span>' in body(message, "text/html")
    assert "<span" not in text and '"Your lab write-up explained every step."' in text
    assert "o uno más en Exceeds" in text  # "one more" said as Spanish says it


# ------------------------------------------------------------------ set-password e-mails in the person's language

def test_a_spanish_speaking_guardian_gets_the_set_password_email_in_spanish(client: FlaskClient, login_as,
                                                                            smtp: Inbox) -> None:
    login_as(make_user("admin"))
    parent = make_user("guardian")
    parent.language = "es"
    db.session.commit()
    client.post(f"/admin/users/{parent.id}", data={"action": "password_link"})
    [message] = smtp.messages
    assert message["Content-Language"] == "es" and subject(message) == "Elija su contraseña del cuaderno de notas"
    text = body(message)
    assert text.startswith(f"Hola, {parent.first_name}:") and "Sirve una vez, durante 14 días" in text
    assert "Choose your password" not in text and "/set-password/" in text


def subject(message: Message) -> str:
    from email.header import decode_header, make_header

    return str(make_header(decode_header(message["Subject"])))


def _spanish_roster() -> bytes:
    from tests.db.test_oneroster_import import COLUMNS, csv_bytes, roster_zip, two_schools

    tables = two_schools()
    tables["users"][-3]["metadata.preferredLanguage"] = "es-MX"  # g1, a parent
    return roster_zip({k: v for k, v in tables.items() if k != "users"},
                      raw={"users": csv_bytes(COLUMNS["users"] + ",metadata.preferredLanguage", tables["users"])},
                      manifest={"file.users": "bulk"})


def test_a_roster_import_emails_every_new_account_its_link_in_its_language(client: FlaskClient, login_as,
                                                                           smtp: Inbox) -> None:
    from gradebook.models import ImportJob, User

    login_as(make_user("admin"))
    client.post("/admin/imports", data={"kind": "oneroster", "file": (io.BytesIO(_spanish_roster()), "roster.zip")},
                content_type="multipart/form-data")
    dry = db.session.scalars(select(ImportJob)).one()
    assert smtp.messages == [] and "28 new account(s) would get a set-password link by e-mail" in dry.message
    applied = client.post(f"/admin/imports/{dry.id}/apply")
    page = client.get(applied.location).get_data(as_text=True)

    assert "28 new account(s) got a set-password link by e-mail (sent through 127.0.0.1" in page
    assert "/set-password/" not in page
    assert len(smtp.messages) == 28
    g1 = db.session.scalars(select(User).where(User.sourced_id == "g1")).one()
    spanish = [m for m in smtp.messages if m["To"].endswith(f"<{g1.email}>")]
    english = [m for m in smtp.messages if m["Content-Language"] == "en"]
    assert len(spanish) == 1 and len(english) == 27
    assert spanish[0]["Content-Language"] == "es" and subject(spanish[0]).startswith("Elija su contraseña")
    assert "Allí puede seguir cómo aprende" in body(spanish[0])  # a guardian's words
    assert subject(english[0]) == "Set your gradebook password"
    token = next(w for w in body(spanish[0]).split() if "/set-password/" in w).rsplit("/", 1)[1]
    client.post("/logout")
    assert client.get(f"/set-password/{token}").status_code == 200


def test_a_roster_import_whose_mail_server_refuses_imports_nothing_and_says_why(client: FlaskClient, login_as,
                                                                               app: Flask) -> None:
    from gradebook.models import ImportJob, User

    login_as(make_user("admin"))
    client.post("/admin/imports", data={"kind": "oneroster", "file": (io.BytesIO(_spanish_roster()), "roster.zip")},
                content_type="multipart/form-data")
    dry = db.session.scalars(select(ImportJob)).one()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=_free_port())
    try:
        applied = client.post(f"/admin/imports/{dry.id}/apply")
        page = client.get(applied.location).get_data(as_text=True)
    finally:
        app.config.update(MAIL_SERVER=None, MAIL_PORT=25)
    assert "Nothing was imported" in page and "did not take the mail" in page
    assert db.session.scalars(select(User).where(User.sourced_id == "g1")).first() is None
    assert db.session.scalars(select(PasswordReset)).first() is None


def test_roster_emails_wait_for_the_commit_and_a_failed_commit_sends_none(app: Flask, smtp: Inbox) -> None:
    """The links are e-mailed once the import is committed, never before: a commit that fails sends nothing
    (no link to an account that does not exist); the next import that commits sends them all."""
    from sqlalchemy.exc import IntegrityError

    from gradebook.interop.oneroster import import_oneroster
    from gradebook.models import User

    report = import_oneroster(db.session, _spanish_roster(), actor=None)
    assert report.emailed == 28 and smtp.messages == []  # composed and the server asked, nothing sent yet
    first = db.session.scalars(select(User).where(User.sourced_id == "g1")).one()
    db.session.add(User(email=first.email, name="Same address", role="guardian", session_token="t0"))  # the commit will fail
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    assert smtp.messages == []
    assert db.session.scalars(select(User).where(User.sourced_id == "g1")).first() is None
    assert db.session.scalars(select(PasswordReset)).first() is None

    import_oneroster(db.session, _spanish_roster(), actor=None)
    assert smtp.messages == []
    db.session.commit()
    assert len(smtp.messages) == 28
    tokens = {m["To"] for m in smtp.messages}
    assert len(tokens) == 28


def test_a_savepoint_inside_the_import_does_not_send_early(app: Flask, smtp: Inbox) -> None:
    from gradebook.interop.mail_out import email_set_password_links

    parent = make_user("guardian")
    email_set_password_links(db.session, [parent])
    from gradebook.models import User

    with db.session.begin_nested():  # a savepoint released inside the caller's transaction
        db.session.add(User(email="other@example.org", name="Other", role="guardian", session_token="t1"))
    with pytest.raises(ValueError), db.session.begin_nested():  # one rolled back
        db.session.add(User(email="third@example.org", name="Third", role="guardian", session_token="t2"))
        raise ValueError
    assert smtp.messages == []
    db.session.commit()
    assert len(smtp.messages) == 1


def test_the_digest_has_a_work_habits_line_in_the_familys_language(app: Flask, smtp: Inbox) -> None:
    from tests.builders import make_habit, make_habits

    world, child, guardian = a_week_of_news()
    responsibility, persistence, _collaboration = make_habits(world)
    make_habit(world, child, responsibility, "4")
    make_habit(world, child, persistence, "2")
    send_digests(db.session, base_url="https://school.example")
    db.session.commit()
    [message] = smtp.messages
    text = body(message)
    line = next(row for row in text.splitlines() if row.startswith("Work habits"))
    assert line.startswith("Work habits (never part of a grade): Responsibility: ") and "; Persistence: " in line
    assert "Collaboration" not in line  # not seen yet: left out
    assert "Work habits (never part of a grade):" in body(message, "text/html")

    guardian.language = "es"
    db.session.commit()
    send_digests(db.session, base_url="https://school.example")
    db.session.commit()
    assert "Hábitos de trabajo (nunca cuentan en la nota): " in body(smtp.messages[-1])
