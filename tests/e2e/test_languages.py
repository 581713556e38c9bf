"""A guardian whose account is Spanish reads the child page, the conference page and the e-mail digest in
Spanish, switches to English (and the next digest is English too), and nothing on those pages is left
untranslated. Screenshots: the child page on a phone, the
printed conference page (test-artifacts/screens/)."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from gradebook.demo import seed_demo
from gradebook.extensions import db
from gradebook.interop.mail_out import digest_message
from gradebook.models import User, utcnow
from tests.e2e.conftest import ARTIFACTS, log_in, screenshot
from tests.web.test_languages import english_chunks, untranslated


def spanish_guardian() -> User:
    seed_demo(db.session)
    db.session.commit()
    return db.session.scalar(select(User).where(User.role == "guardian", User.language == "es"))


def test_a_spanish_family_reads_the_child_and_conference_pages_in_spanish_and_can_switch(page) -> None:
    guardian = spanish_guardian()
    log_in(page, guardian.email, "gradebook-demo")
    page.wait_for_url(re.compile("/family$"))
    page.get_by_role("heading", name="Sus hijos").wait_for()
    page.get_by_role("link", name=re.compile("^Ver cómo le va a ")).first.click()
    page.wait_for_url(re.compile(r"/family/children/\d+$"))
    assert page.locator("html").get_attribute("lang") == "es"
    page.get_by_role("heading", name=re.compile("^Cómo le va a ")).wait_for()
    chunks = english_chunks()
    assert untranslated(page.content(), chunks) == []

    page.get_by_role("link", name="Hoja para la reunión").click()
    page.wait_for_url(re.compile(r"/students/\d+/conference$"))
    page.get_by_role("heading", name="Destrezas", exact=True).wait_for()
    assert untranslated(page.content(), chunks) == []

    page.get_by_role("button", name="English").click()
    page.wait_for_url(re.compile(r"/students/\d+/conference$"))
    page.get_by_role("heading", name="Skills", exact=True).wait_for()
    assert page.locator("html").get_attribute("lang") == "en"
    page.get_by_role("button", name="Español").click()
    page.get_by_role("heading", name="Destrezas", exact=True).wait_for()
    assert page.js_errors == []


def _digest_html(guardian: User, base_url: str) -> tuple[str, str]:
    """The guardian's digest e-mail (a term of news, so the demo always has some): its HTML part and its
    language."""
    db.session.commit()  # a fresh read: the browser may have changed the account meanwhile
    guardian = db.session.get(User, guardian.id)
    built = digest_message(db.session, guardian, since=utcnow() - timedelta(days=365), until=utcnow(),
                           base_url=base_url)
    assert built is not None, "the demo family has no news"
    message, _children = built
    html = next(part for part in message.walk() if part.get_content_type() == "text/html")
    return html.get_payload(decode=True).decode(html.get_content_charset() or "utf-8"), message["Content-Language"]


def test_a_spanish_family_reads_the_digest_in_spanish_and_after_switching_gets_it_in_english(page,
                                                                                              live_server) -> None:
    guardian = spanish_guardian()
    log_in(page, guardian.email, "gradebook-demo")
    page.wait_for_url(re.compile("/family$"))

    html, language = _digest_html(guardian, live_server)
    assert language == "es"
    page.set_content(html)
    page.get_by_role("heading", name="Esta semana en la escuela").wait_for()
    assert page.locator("html").get_attribute("lang") == "es"
    assert untranslated(page.content(), english_chunks()) == []
    screenshot(page, "digest-es")

    page.get_by_role("link", name=re.compile("^Vea todo en la página de la familia")).click()  # the e-mail's link
    page.wait_for_url(re.compile("/family$"))
    page.get_by_role("heading", name="Sus hijos").wait_for()
    page.get_by_role("button", name="English").click()
    page.get_by_role("heading", name="Your children").wait_for()

    html, language = _digest_html(guardian, live_server)  # the account now says English: so does the e-mail
    assert language == "en"
    page.set_content(html)
    page.get_by_role("heading", name="This week at school").wait_for()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.js_errors == []


def test_screens_of_the_spanish_child_page_on_a_phone_and_the_printed_conference_page(page) -> None:
    guardian = spanish_guardian()
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, guardian.email, "gradebook-demo")
    page.wait_for_url(re.compile("/family$"))
    page.get_by_role("link", name=re.compile("^Ver cómo le va a ")).first.click()
    page.get_by_role("heading", name=re.compile("^Cómo le va a ")).wait_for()
    screenshot(page, "child-es-phone", full_page=False)
    screenshot(page, "child-es-phone-full")
    page.get_by_role("link", name="Hoja para la reunión").click()
    page.get_by_role("heading", name="Destrezas", exact=True).wait_for()
    path = ARTIFACTS / "screens" / "conference-es.pdf"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.pdf(path=str(path), format="A4", print_background=True, prefer_css_page_size=True)
    page.emulate_media(media="print")
    page.set_viewport_size({"width": 794, "height": 1123})
    screenshot(page, "conference-es-print")
