"""Spanish, properly: complete catalogues, the language from the account, the switch, school data in the
reader's language (or marked with its own), and no English left on the Spanish pages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from sqlalchemy import select

from gradebook.demo import DEMO_PASSWORD, seed_demo
from gradebook.extensions import db
from gradebook.models import LANGUAGES, GuardianLink, ScaleLevel, TextTranslation, User
from tests.builders import make_evidence, make_section
from tests.readability import sentences
from tests.web.test_readability import family_pages

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = [language for language in LANGUAGES if language != "en"]


def catalogue(language: str):  # type: ignore[no-untyped-def]
    with open(ROOT / "translations" / language / "LC_MESSAGES" / "messages.po", "rb") as handle:
        return read_po(handle, locale=language)


def source_messages() -> set[str]:
    """Every message marked in the code and templates, as babel.cfg extracts them."""
    method_map = [("gradebook/**.py", "python"), ("templates/**.html", "jinja2")]
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None, "lazy_gettext": None, "_l": None}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(str(ROOT), method_map, keywords=keywords):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


@pytest.mark.parametrize("language", SHIPPED)
def test_every_message_of_the_shipped_languages_is_translated(language: str) -> None:
    problems = [m.id for m in catalogue(language) if m.id and (
        m.fuzzy or not m.string or (isinstance(m.string, tuple) and not all(m.string)))]
    assert problems == [], f"untranslated or fuzzy in {language}: {problems}"


@pytest.mark.parametrize("language", SHIPPED)
def test_the_catalogues_hold_every_marked_message(language: str) -> None:
    ids = {m.id[0] if isinstance(m.id, tuple) else m.id for m in catalogue(language) if m.id}
    missing = sorted(source_messages() - ids)
    assert missing == [], f"run bin/update-translations and translate: {missing}"


@pytest.mark.parametrize("language", SHIPPED)
def test_translations_keep_every_placeholder(language: str) -> None:
    bad = []
    for m in catalogue(language):
        if not m.id:
            continue
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        wanted = set(re.findall(r"%\((\w+)\)", " ".join(ids)))
        for text in strings:
            if set(re.findall(r"%\((\w+)\)", text)) - wanted:
                bad.append(m.id)
    assert bad == []


# ------------------------------------------------------------------ the Spanish pages, scanned

ENGLISH_WORDS = {"the", "and", "of", "is", "are", "with", "your", "what", "you", "yet", "this", "that", "for",
                 "from", "have", "will", "would", "skill", "skills", "work", "teacher", "level", "goal",
                 "evidence", "standard", "next", "step", "how", "why", "see", "show", "reply", "send"}


def english_chunks() -> set[str]:
    """The English words of every message whose Spanish differs: pieces of two words or more between
    placeholders (one English word alone is caught by ENGLISH_WORDS)."""
    chunks = set()
    for m in catalogue("es"):
        if not m.id:
            continue
        for english, spanish in zip(m.id if isinstance(m.id, tuple) else (m.id,),
                                    m.string if isinstance(m.string, tuple) else (m.string,), strict=False):
            if english == spanish:
                continue
            for piece in re.split(r"%\(\w+\)[sd]", english):
                piece = piece.strip(" .,:;()?—")
                if len(piece.split()) >= 2:
                    chunks.add(piece)
    return chunks


def untranslated(html: str, chunks: set[str]) -> list[str]:
    """Text of a Spanish page that is English: outside school data marked with its own language."""
    found = []
    for sentence in sentences(html, language="es", only_main=False):
        words = set(re.findall(r"[A-Za-z']+", sentence.lower()))
        if words & ENGLISH_WORDS or any(chunk in sentence for chunk in chunks):
            found.append(sentence)
    return found


@pytest.fixture
def demo(app):  # type: ignore[no-untyped-def]
    seed_demo(db.session)
    db.session.commit()


def _left(pages: dict[str, str]) -> dict[str, list[str]]:
    chunks = english_chunks()
    left = {name: untranslated(html, chunks) for name, html in pages.items()}
    return {name: found for name, found in left.items() if found}


def _get(client, url: str, status: int = 200) -> str:  # type: ignore[no-untyped-def]
    response = client.get(url)
    assert response.status_code == status, url
    return response.get_data(as_text=True)


def test_a_spanish_familys_pages_have_no_english_left(client, demo) -> None:
    guardian = db.session.scalar(select(User).where(User.role == "guardian", User.language == "es"))
    pages = family_pages(client, guardian)
    pages["account"] = _get(client, "/account")
    pages["not found"] = _get(client, "/family/children/999999", 404)
    assert _left(pages) == {}
    assert '<html lang="es">' in pages["child"]


def _spanish_child(guardian: User) -> User:
    child = db.session.scalar(select(User).join(GuardianLink, GuardianLink.student_id == User.id)
                              .where(GuardianLink.guardian_id == guardian.id).order_by(User.id))
    child.language = "es"
    db.session.commit()
    return child


def test_a_spanish_students_pages_have_no_english_left(client, demo) -> None:
    """Every page a student reads: home, each "why", each learning path (and a skill looked at), the forms for
    work, goals and the profile, the account, the record file, and the pages a mistake leads to."""
    from gradebook.models import Enrollment, PortfolioEntry, SectionStandard

    guardian = db.session.scalar(select(User).where(User.role == "guardian", User.language == "es"))
    child = _spanish_child(guardian)
    client.post("/login", data={"email": child.email, "password": DEMO_PASSWORD})
    urls = {"home": "/portfolio", "new work": "/portfolio/entries/new", "new goal": "/portfolio/goals/new",
            "profile": "/portfolio/profile", "account": "/account", "record": f"/students/{child.id}/record.html"}
    entry = db.session.scalar(select(PortfolioEntry.id).where(PortfolioEntry.student_id == child.id,
                                                               PortfolioEntry.deleted_at.is_(None)))
    if entry is not None:
        urls["edit work"] = f"/portfolio/entries/{entry}/edit"
    for section_id, competency_id in db.session.execute(
            select(SectionStandard.section_id, SectionStandard.competency_id)
            .join(Enrollment, Enrollment.section_id == SectionStandard.section_id)
            .where(Enrollment.student_id == child.id, Enrollment.active.is_(True))
            .order_by(SectionStandard.section_id, SectionStandard.position)):
        urls[f"why {section_id}/{competency_id}"] = f"/portfolio/sections/{section_id}/standards/{competency_id}"
        urls.setdefault(f"path {section_id}", f"/portfolio/sections/{section_id}/path")
        urls[f"path {section_id} looking at {competency_id}"] = \
            f"/portfolio/sections/{section_id}/path?standard={competency_id}"
    pages = {name: _get(client, url) for name, url in urls.items()}
    pages["not found"] = _get(client, "/portfolio/sections/999999/path", 404)
    # Mistakes: the messages are Spanish too.
    section_id = next(int(name.split()[1]) for name in urls if name.startswith("path "))
    focus = client.post(f"/portfolio/sections/{section_id}/path/focus", data={"competency_id": ""})
    ready = client.post(f"/portfolio/sections/{section_id}/path/ready", data={"competency_id": ""})
    no_title = client.post("/portfolio/entries/new", data={"title": "", "visibility": "private"})
    assert (focus.status_code, ready.status_code, no_title.status_code) == (422, 422, 422)
    pages.update({"focus refused": focus.get_data(as_text=True), "ready refused": ready.get_data(as_text=True),
                  "work refused": no_title.get_data(as_text=True)})
    assert "Elige la destreza" in pages["focus refused"] and "Ponle un título" in pages["work refused"]
    # The skills to choose from (plain text in options, which the scan leaves out) are the school's Spanish.
    assert "SCI.7.1.a Preguntas que se pueden probar" in pages["new work"]
    assert "Testable questions" not in pages["new work"]
    assert _left(pages) == {}


def test_the_logged_out_pages_and_the_set_password_page_have_no_english_left(client, demo) -> None:
    from gradebook.services.accounts import issue_set_password_link

    guardian = db.session.scalar(select(User).where(User.role == "guardian", User.language == "es"))
    token = issue_set_password_link(db.session, guardian)
    db.session.commit()
    client.post("/language", data={"language": "es", "next": "/login"})
    pages = {"login": _get(client, "/login"), "set password": _get(client, f"/set-password/{token}"),
             "expired link": _get(client, "/set-password/not-a-token", 404)}
    wrong = client.post("/login", data={"email": guardian.email, "password": "not the password"})
    differ = client.post(f"/set-password/{token}", data={"new_password": "a long new password",
                                                        "confirm": "another long password"})
    assert (wrong.status_code, differ.status_code) == (422, 422)
    pages.update({"wrong password": wrong.get_data(as_text=True), "passwords differ": differ.get_data(as_text=True)})
    assert "Las dos contraseñas no son iguales." in pages["passwords differ"]
    assert _left(pages) == {}


def test_the_login_limit_speaks_the_readers_language(client, app, demo) -> None:
    guardian = db.session.scalar(select(User).where(User.role == "guardian", User.language == "es"))
    app.config["LOGIN_RATE_LIMIT"], before = "2 per minute", app.config["LOGIN_RATE_LIMIT"]
    try:
        client.post("/language", data={"language": "es", "next": "/login"})
        for _attempt in range(2):
            client.post("/login", data={"email": guardian.email, "password": "not the password"})
        limited = client.post("/login", data={"email": guardian.email, "password": "not the password"})
    finally:
        app.config["LOGIN_RATE_LIMIT"] = before
    html = limited.get_data(as_text=True)
    assert limited.status_code == 429 and "Demasiadas contraseñas equivocadas para esta cuenta" in html
    assert _left({"limited": html}) == {}


# ------------------------------------------------------------------ where the language comes from

@pytest.fixture
def family(app):  # type: ignore[no-untyped-def]
    world = make_section(students=1, standards=2, guardians=True)
    make_evidence(world, world.students[0], world.standards[0], 2)
    return world


def test_the_accounts_language_wins_over_the_browsers(client, login_as, family) -> None:
    guardian = family.guardians[0]
    guardian.language = "es"
    db.session.commit()
    login_as(guardian)
    html = client.get("/family", headers={"Accept-Language": "en-US,en;q=0.9"}).get_data(as_text=True)
    assert "Sus hijos" in html and '<html lang="es">' in html


def test_without_a_language_on_the_account_the_browser_decides(client, login_as, family) -> None:
    login_as(family.guardians[0])
    assert "Sus hijos" in client.get("/family", headers={"Accept-Language": "es-MX,es;q=0.9"}).get_data(as_text=True)
    assert "Your children" in client.get("/family", headers={"Accept-Language": "fr, en;q=0.5"}).get_data(as_text=True)


def test_the_switch_keeps_the_choice_on_the_account(client, login_as, family) -> None:
    guardian = family.guardians[0]
    login_as(guardian)
    response = client.post("/language", data={"language": "es", "next": "/family"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/family")
    assert db.session.get(User, guardian.id).language == "es"
    assert "Sus hijos" in client.get("/family").get_data(as_text=True)


def test_a_logged_out_visitor_switches_with_a_cookie(client, app) -> None:
    response = client.post("/language", data={"language": "es", "next": "/login"})
    assert response.status_code == 303 and "language=es" in response.headers["Set-Cookie"]
    assert '<html lang="es">' in client.get("/login").get_data(as_text=True)


def test_the_switch_refuses_an_unknown_language_and_a_far_away_next(client, app) -> None:
    assert client.post("/language", data={"language": "xx"}).status_code == 400
    response = client.post("/language", data={"language": "en", "next": "//evil.example/"})
    assert response.status_code == 303 and "evil" not in response.headers["Location"]


def test_every_page_has_the_switch(client, login_as, family) -> None:
    assert 'action="/language"' in client.get("/login").get_data(as_text=True)
    login_as(family.teacher)
    assert 'action="/language"' in client.get("/sections").get_data(as_text=True)


# ------------------------------------------------------------------ school data in the reader's language

def test_a_missing_translation_shows_the_original_marked_with_its_language(client, login_as, family) -> None:
    guardian = family.guardians[0]
    guardian.language = "es"
    standard = family.standards[0]
    db.session.add(TextTranslation(table_name="competencies", row_id=family.standards[1].id, field="statement",
                                   language="es", text="Hacer bien la destreza 2."))
    db.session.commit()
    login_as(guardian)
    html = client.get(f"/family/children/{family.students[0].id}").get_data(as_text=True)
    assert f'<span lang="en">{standard.statement}</span>' in html
    assert "Hacer bien la destreza 2." in html


def test_scale_labels_show_in_the_readers_language(client, login_as, family) -> None:
    guardian = family.guardians[0]
    guardian.language = "es"
    for level in db.session.scalars(select(ScaleLevel)):
        if level.label == "Approaching":
            db.session.add(TextTranslation(table_name="scale_levels", row_id=level.id, field="label",
                                           language="es", text="Se acerca"))
    db.session.commit()
    login_as(guardian)
    html = client.get(f"/family/children/{family.students[0].id}").get_data(as_text=True)
    assert "Se acerca" in html and '<span lang="en">Meets</span>' in html


def test_dates_follow_the_readers_language(client, login_as, family) -> None:
    family.guardians[0].language = "es"
    db.session.commit()
    login_as(family.guardians[0])
    html = client.get(f"/students/{family.students[0].id}/record.html").get_data(as_text=True)
    assert re.search(r"\d+ (ene|feb|mar|abr|may|jun|jul|ago|sept?|oct|nov|dic)\.? 20\d\d", html)


def test_an_admin_sets_a_persons_language_on_their_page(client, login_as, family) -> None:
    from tests.builders import make_user

    guardian = family.guardians[0]
    login_as(make_user("admin"))
    response = client.post(f"/admin/users/{guardian.id}", data={"action": "language", "language": "es"})
    assert response.status_code == 303 and db.session.get(User, guardian.id).language == "es"
    assert client.post(f"/admin/users/{guardian.id}", data={"action": "language", "language": "xx"}).status_code == 422
    client.post(f"/admin/users/{guardian.id}", data={"action": "language", "language": ""})
    assert db.session.get(User, guardian.id).language is None


def test_a_person_chooses_their_language_on_their_account_page(client, login_as, family) -> None:
    login_as(family.students[0])
    page = client.get("/account").get_data(as_text=True)
    assert 'name="language"' in page and 'value="es"' in page
    client.post("/language", data={"language": "es", "next": "/account"})
    assert db.session.get(User, family.students[0].id).language == "es"
    assert "Idioma" in client.get("/account").get_data(as_text=True)


def test_an_admin_enters_spanish_on_a_competencys_page_and_the_family_reads_it(client, login_as, family) -> None:
    from tests.builders import make_user

    standard = family.standards[0]
    login_as(make_user("admin"))
    page = client.get(f"/admin/competencies/{standard.id}").get_data(as_text=True)
    assert "In Español" in page
    field = f"tr-competencies-{standard.id}-statement"
    response = client.post(f"/admin/competencies/{standard.id}",
                           data={"action": "translations", "language": "es", field: "Hacer bien la destreza 1."})
    assert response.status_code == 303
    too_long = client.post(f"/admin/competencies/{standard.id}",
                           data={"action": "translations", "language": "es", field: "x" * 2001})
    assert too_long.status_code == 422 and "2000 characters" in too_long.get_data(as_text=True)
    family.guardians[0].language = "es"
    db.session.commit()
    login_as(family.guardians[0])
    assert "Hacer bien la destreza 1." in client.get(f"/family/children/{family.students[0].id}").get_data(as_text=True)


def test_an_admin_enters_spanish_labels_on_the_scale_page(client, login_as, family) -> None:
    from tests.builders import make_user

    meets = db.session.scalar(select(ScaleLevel).where(ScaleLevel.label == "Meets"))
    login_as(make_user("admin"))
    response = client.post("/admin/scale", data={"action": "translations", "language": "es",
                                                 f"tr-scale_levels-{meets.id}-label": "Cumple"})
    assert response.status_code == 303
    assert db.session.scalar(select(TextTranslation.text).where(TextTranslation.row_id == meets.id)) == "Cumple"
    assert client.post("/admin/scale", data={"action": "translations", "language": "xx"}).status_code == 422
