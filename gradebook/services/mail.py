"""Sending e-mail: over SMTP when the school set a server (``MAIL_SERVER`` …), otherwise into a folder.

Standard library only (``smtplib``, ``email``). Settings, from the environment (gradebook/config.py):
``MAIL_SERVER``, ``MAIL_PORT`` (25, or 587 with TLS), ``MAIL_USE_TLS`` (STARTTLS), ``MAIL_USE_SSL``
(SMTPS), ``MAIL_USERNAME``, ``MAIL_PASSWORD``, ``MAIL_DEFAULT_SENDER``, ``MAIL_TIMEOUT`` (seconds) and
``MAIL_OUTBOX`` (where mail goes without a server: ``instance/outbox/``, one ``.eml`` file a message, which
any mail program opens). A laptop or the demo never sends mail anywhere by accident.
"""

from __future__ import annotations

import logging
import secrets
import smtplib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, scoped_session

from gradebook.services import ServiceError

log = logging.getLogger("gradebook.events")

DEFAULT_SENDER = "Gradebook <no-reply@gradebook.invalid>"


@dataclass(frozen=True)
class MailSettings:
    server: str | None = None
    port: int = 25
    use_tls: bool = False
    use_ssl: bool = False
    username: str | None = None
    password: str | None = None
    sender: str = DEFAULT_SENDER
    timeout: float = 30.0
    outbox: str = "instance/outbox"

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> MailSettings:
        return cls(server=config.get("MAIL_SERVER") or None, port=int(config.get("MAIL_PORT") or 25),
                   use_tls=bool(config.get("MAIL_USE_TLS")), use_ssl=bool(config.get("MAIL_USE_SSL")),
                   username=config.get("MAIL_USERNAME") or None, password=config.get("MAIL_PASSWORD") or None,
                   sender=config.get("MAIL_DEFAULT_SENDER") or DEFAULT_SENDER,
                   timeout=float(config.get("MAIL_TIMEOUT") or 30), outbox=str(config.get("MAIL_OUTBOX") or
                                                                                 "instance/outbox"))


def compose(*, to: str, to_name: str = "", subject: str, text: str, html: str | None = None,
            sender: str = DEFAULT_SENDER, language: str = "en") -> EmailMessage:
    """A plain-text e-mail with an HTML alternative (mail programs show whichever they can)."""
    if not to or "@" not in to:
        raise ServiceError(f"{to_name or 'This person'} has no e-mail address to send to.")
    message = EmailMessage()
    message["From"] = sender
    message["To"] = formataddr((to_name, to)) if to_name else to
    message["Subject"] = subject
    message["Date"] = datetime.now(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")
    message["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1].rstrip(">") or "gradebook.invalid")
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    message["Content-Language"] = language  # after the content: set_content clears every Content-* header
    return message


def send(settings: MailSettings, messages: list[EmailMessage]) -> str:
    """Deliver the messages over one SMTP connection, or write them to the outbox; says where they went.

    A refused connection or login is a ServiceError naming the server, so a command or a page can report it
    rather than fail with a traceback."""
    if not messages:
        return "nothing to send"
    if not settings.server:
        folder = Path(settings.outbox)
        folder.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        for message in messages:
            (folder / f"{stamp}-{secrets.token_hex(4)}.eml").write_bytes(bytes(message))
        return f"written to {folder}"
    try:
        with _connect(settings) as smtp:
            for message in messages:
                smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as error:
        raise _refused(settings, error) from error
    return f"sent through {settings.server}:{settings.port}"


def _connect(settings: MailSettings) -> smtplib.SMTP:
    """A connection to the school's server, past STARTTLS and the login: the server has said it takes mail."""
    smtp_class = smtplib.SMTP_SSL if settings.use_ssl else smtplib.SMTP
    smtp = smtp_class(settings.server, settings.port, timeout=settings.timeout)  # type: ignore[arg-type]
    try:
        if settings.use_tls and not settings.use_ssl:
            smtp.starttls()
        if settings.username:
            smtp.login(settings.username, settings.password or "")
    except BaseException:
        smtp.close()
        raise
    return smtp


def _refused(settings: MailSettings, error: Exception) -> ServiceError:
    return ServiceError(f"The mail server {settings.server}:{settings.port} did not take the mail: {error}. "
                        "Check MAIL_SERVER, MAIL_PORT and the login settings.")


def send_after_commit(session: Session | scoped_session, settings: MailSettings, messages: list[EmailMessage]) -> str:
    """Deliver the messages once the caller's transaction is committed, never before: a link in an e-mail
    points at rows that exist. The server is asked first, now: the connection is opened and logged in before
    the caller commits, so a refused server is a ServiceError here and the caller writes nothing. After the
    commit the messages go over that connection (one new connection if the server dropped it meanwhile); a
    rollback closes it and sends nothing. Without a server they go to the outbox folder, after the commit too.

    A server that took the login but then refuses a message after the commit cannot undo the commit: that is
    logged (``mail.after_commit_failed``, with the addresses), and each person's link can be sent again from
    their page."""
    if not messages:
        return "nothing to send"
    held: list[smtplib.SMTP] = []
    if settings.server:
        try:
            held.append(_connect(settings))
        except (OSError, smtplib.SMTPException) as error:
            raise _refused(settings, error) from error
    real = session.registry() if isinstance(session, scoped_session) else session

    def _close() -> None:
        for smtp in held:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()
        held.clear()

    ended: list[bool] = []  # the listeners stay on the session (none may be removed while it dispatches): no-ops

    def _deliver(done: Session) -> None:
        if ended or done.in_nested_transaction():  # a savepoint released: the caller's transaction goes on
            return
        ended.append(True)
        try:
            if not settings.server:
                send(settings, messages)
                return
            smtp = held[0]
            for index, message in enumerate(messages):
                try:
                    smtp.send_message(message)
                except smtplib.SMTPServerDisconnected:  # idle too long: once more, on a new connection
                    smtp = _connect(settings)
                    held.append(smtp)
                    for rest in messages[index:]:
                        smtp.send_message(rest)
                    break
        except (OSError, smtplib.SMTPException) as error:
            log.error("mail.after_commit_failed %s", {"server": f"{settings.server}:{settings.port}",
                                                      "error": str(error),
                                                      "to": [str(m["To"]) for m in messages]})
        finally:
            _close()

    def _dropped(done: Session) -> None:
        if ended or done.in_nested_transaction():  # a savepoint rolled back: not the caller's transaction
            return
        ended.append(True)
        _close()

    event.listen(real, "after_commit", _deliver)
    event.listen(real, "after_rollback", _dropped)
    where = f"sent through {settings.server}:{settings.port}" if settings.server else f"written to {settings.outbox}"
    return where
