"""Security defects of their kind: where login sends you next, what ends a session, what login limits
count, how a download is named, and which body limit a form gets."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update
from werkzeug.http import parse_date, parse_options_header

from gradebook import create_app
from gradebook.extensions import db, limiter
from gradebook.interop import jobs
from gradebook.models import Artifact, AuditEvent, ImportJob, Section, User
from gradebook.services.artifacts import Upload, store_upload
from gradebook.web import auth
from gradebook.web.auth import safe_next_url
from gradebook.web.downloads import download_name
from tests.builders import PASSWORD, make_section, make_user
from tests.conftest import database_url, login
from tests.web.test_access import PNG

ROOT = Path(__file__).resolve().parents[2]
EVIL = "evil.example"


# --- 12. Where login sends you next ------------------------------------------------------------------

# Query strings an attacker can put in a link to the login page. Each decodes to something a browser would
# take off the site, or to something that cannot go in a Location header at all.
BYPASSES = [
    f"next=//{EVIL}",
    f"next=///{EVIL}",
    f"next=////{EVIL}",
    f"next=/%5C{EVIL}",                  # /\evil: browsers read the backslash as a slash
    f"next=%5C%5C{EVIL}",                # \\evil
    f"next=/%5C/{EVIL}",
    f"next=%2F%09%2F{EVIL}",             # /<tab>/evil: browsers drop the tab
    f"next=/%09/{EVIL}",
    f"next=/%0A/{EVIL}",
    f"next=%2F%2F{EVIL}",
    f"next=/%2F{EVIL}",                  # decodes to //evil
    f"next=%20//{EVIL}",
    f"next=%09//{EVIL}",
    f"next=https://{EVIL}",
    f"next=http:{EVIL}",
    f"next=http:/{EVIL}",
    f"next=HTTPS:%2F%2F{EVIL}",
    f"next=//{EVIL}%2F@localhost",
    "next=javascript:alert(1)",
    "next=%6Aavascript:alert(1)",
    "next=data:text/html,<script>alert(1)</script>",
    "next=/%0d%0aSet-Cookie:%20stolen=1",
    "next=/%0d%0aLocation:%20https://evil.example",
    "next=/sections%00",
    "next=/%E2%80%AE/evil",              # a right-to-left override
    f"next=%252F%252F{EVIL}",            # double-encoded: not a path once decoded
    f"next=.//{EVIL}",
    f"next={EVIL}",
    "next=/" + "a" * 3000,
]


@pytest.mark.parametrize("query", BYPASSES)
def test_login_never_sends_anyone_off_the_site(client: FlaskClient, query: str) -> None:
    user = make_user("teacher")
    response = client.post(f"/login?{query}", data={"email": user.email, "password": PASSWORD})
    if "%00" in query:  # a NUL is refused by the one request check before the view runs: nobody is sent anywhere
        assert (response.status_code, response.headers.get("Location")) == (422, None)
        return
    assert (response.status_code, response.headers["Location"]) == (303, "/sections")
    assert "Set-Cookie: stolen" not in str(response.headers)


@pytest.mark.parametrize("query", BYPASSES)
def test_the_login_form_does_not_carry_an_outside_next(client: FlaskClient, query: str) -> None:
    response = client.get(f"/login?{query}")
    if "%00" in query:  # refused by the one request check (422), with no form to carry it anywhere
        assert response.status_code == 422
        return
    page = response.get_data(as_text=True)
    action = re.search(r'<form method="post" action="([^"]*)"', page).group(1)  # type: ignore[union-attr]
    assert action == "/login"


@pytest.mark.parametrize("target", ["/sections", "/sections/12?sort=name&below=1", "/students/5/record.html",
                                    "/admin/users/3", "/portfolio/why/4%2F5"])
def test_login_follows_a_path_on_this_site(client: FlaskClient, target: str) -> None:
    user = make_user("teacher")
    form = client.get("/login", query_string={"next": target}).get_data(as_text=True)
    assert re.search(r'<form method="post" action="/login\?next=[^"]+"', form)
    response = client.post("/login", query_string={"next": target}, data={"email": user.email, "password": PASSWORD})
    assert response.headers["Location"] == target


@pytest.mark.parametrize("target", [
    "//evil", "/\\evil", "\\\\evil", "/\t/evil", "/\r\n/evil", "/\x00", "https://evil", "javascript:x", " //evil",
    "///evil", "http:evil", "/\u202e/evil", "/ /evil", "/sections#frag", "", None,
])
def test_the_next_rule_refuses_what_is_not_a_plain_local_path(target: str | None) -> None:
    assert safe_next_url(target) is None


def test_the_login_after_a_next_with_cr_lf_is_committed_once_and_redirects(client: FlaskClient) -> None:
    user = make_user("teacher")
    response = client.post("/login?next=/%0d%0aX:%20y", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 303
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "auth.login")) == 1


# --- 13. What ends a session ---------------------------------------------------------------------------

def _remembered_login(client: FlaskClient, user: User) -> tuple[str, str]:
    response = client.post("/login", data={"email": user.email, "password": PASSWORD, "remember": "y"})
    assert response.status_code == 303
    session, remember = client.get_cookie("session"), client.get_cookie("remember_token")
    assert session is not None and remember is not None
    return session.value, remember.value


def _device_with(app: Flask, **cookies: str) -> FlaskClient:
    device = app.test_client()
    for name, value in cookies.items():
        device.set_cookie(name, value)
    return device


def test_a_copied_session_cookie_stops_working_at_logout(app: Flask, client: FlaskClient) -> None:
    session, _ = _remembered_login(client, make_user("teacher"))
    copy = _device_with(app, session=session)
    assert copy.get("/sections").status_code == 200
    client.post("/logout")
    response = copy.get("/sections")
    assert (response.status_code, response.headers["Location"].startswith("/login")) == (302, True)


def test_a_copied_remember_me_cookie_stops_working_at_logout(app: Flask, client: FlaskClient) -> None:
    _, remember = _remembered_login(client, make_user("teacher"))
    assert _device_with(app, remember_token=remember).get("/sections").status_code == 200
    client.post("/logout")
    response = _device_with(app, remember_token=remember).get("/sections")
    assert (response.status_code, response.headers["Location"].startswith("/login")) == (302, True)


def test_a_copied_remember_me_cookie_stops_working_at_a_password_change(app: Flask, client: FlaskClient) -> None:
    _, remember = _remembered_login(client, make_user("teacher"))
    client.post("/account", data={"current_password": PASSWORD, "new_password": "a new long password",
                                  "confirm": "a new long password"})
    assert client.get("/sections").status_code == 200
    assert _device_with(app, remember_token=remember).get("/sections").status_code == 302


def test_a_copied_remember_me_cookie_stays_dead_when_the_account_is_switched_off_and_on(
        app: Flask, client: FlaskClient) -> None:
    user = make_user("teacher")
    _, remember = _remembered_login(client, user)
    user.active = False
    db.session.commit()
    assert _device_with(app, remember_token=remember).get("/sections").status_code == 302
    user.active = True
    db.session.commit()
    assert _device_with(app, remember_token=remember).get("/sections").status_code == 302


def test_remember_me_lasts_14_days_and_the_server_holds_to_it(app: Flask, client: FlaskClient,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    assert app.config["REMEMBER_COOKIE_DURATION"] == timedelta(days=14)
    user = make_user("teacher")
    response = client.post("/login", data={"email": user.email, "password": PASSWORD, "remember": "y"})
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("remember_token="))
    expires = parse_date(re.search(r"Expires=([^;]+)", cookie).group(1))  # type: ignore[union-attr]
    assert abs(expires.timestamp() - auth._now() - 14 * 24 * 3600) < 60  # type: ignore[union-attr]
    remember = client.get_cookie("remember_token").value  # type: ignore[union-attr]
    started = auth._now()
    monkeypatch.setattr(auth, "_now", lambda: started + 13 * 24 * 3600)
    assert _device_with(app, remember_token=remember).get("/sections").status_code == 200
    monkeypatch.setattr(auth, "_now", lambda: started + 15 * 24 * 3600)
    assert _device_with(app, remember_token=remember).get("/sections").status_code == 302
    assert client.get("/sections").status_code == 302  # the session that began then is over too


def test_logging_out_says_it_ends_every_device(client: FlaskClient) -> None:
    login(client, make_user("teacher"))
    page = client.post("/logout", follow_redirects=True).get_data(as_text=True)
    assert "logged out, here and on any other device" in page


# --- 14. What login limits count ------------------------------------------------------------------------

@pytest.fixture
def login_limits(app: Flask) -> Iterator[None]:
    """The production defaults, with a fresh count."""
    saved = app.config["LOGIN_RATE_LIMIT"], app.config["LOGIN_ADDRESS_RATE_LIMIT"]
    app.config["LOGIN_RATE_LIMIT"], app.config["LOGIN_ADDRESS_RATE_LIMIT"] = "10 per 15 minutes", "100 per 15 minutes"
    limiter.reset()
    yield
    app.config["LOGIN_RATE_LIMIT"], app.config["LOGIN_ADDRESS_RATE_LIMIT"] = saved
    limiter.reset()


def _try(client: FlaskClient, user: User, password: str = "a wrong password", address: str = "10.0.0.1") -> int:
    response = client.post("/login", data={"email": user.email, "password": password},
                           environ_base={"REMOTE_ADDR": address})
    return response.status_code


@pytest.mark.usefixtures("login_limits")
def test_ten_wrong_passwords_for_one_account_do_not_block_another_from_the_same_address(
        client: FlaskClient) -> None:
    mallory_target, colleague = make_user("teacher"), make_user("teacher")
    assert [_try(client, mallory_target) for _ in range(10)] == [422] * 10
    assert _try(client, colleague, PASSWORD) == 303


@pytest.mark.usefixtures("login_limits")
def test_an_account_is_locked_after_ten_wrong_passwords_whatever_the_address(client: FlaskClient) -> None:
    user = make_user("teacher")
    assert [_try(client, user, address=f"10.0.{i}.1") for i in range(10)] == [422] * 10
    response = client.post("/login", data={"email": user.email.upper(), "password": PASSWORD},
                           environ_base={"REMOTE_ADDR": "192.0.2.77"})
    assert response.status_code == 429
    assert b"Too many wrong passwords for this account" in response.data


@pytest.mark.usefixtures("login_limits")
def test_right_passwords_are_not_counted(client: FlaskClient) -> None:
    user = make_user("teacher")
    for _ in range(12):
        assert _try(client, user, PASSWORD) == 303
        client.post("/logout")


@pytest.mark.usefixtures("login_limits")
def test_an_address_is_limited_too_but_higher(app: Flask, client: FlaskClient) -> None:
    app.config["LOGIN_ADDRESS_RATE_LIMIT"] = "15 per 15 minutes"
    people = [make_user("student") for _ in range(4)]
    assert [_try(client, people[i % 3]) for i in range(15)] == [422] * 15
    response = client.post("/login", data={"email": people[3].email, "password": PASSWORD},
                           environ_base={"REMOTE_ADDR": "10.0.0.1"})
    assert response.status_code == 429 and b"from this network" in response.data
    assert _try(client, people[3], PASSWORD, address="10.9.9.9") == 303


@pytest.fixture
def behind_one_proxy(app: Flask) -> Iterator[Flask]:
    proxied = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url(), "SECRET_KEY": "test-secret",
                          "WTF_CSRF_ENABLED": False, "TRUSTED_PROXY_HOPS": 1, "RATELIMIT_STORAGE_URI": "memory://",
                          "LOGIN_RATE_LIMIT": "10000 per minute", "LOGIN_ADDRESS_RATE_LIMIT": "10000 per minute"})
    yield proxied
    with proxied.app_context():
        db.engine.dispose()


def _logged_in_from(app: Flask, forwarded_for: str) -> str | None:
    user = make_user("teacher")
    client = app.test_client()
    client.post("/login", data={"email": user.email, "password": PASSWORD},
                headers={"X-Forwarded-For": forwarded_for, "X-Forwarded-Proto": "https"})
    db.session.commit()  # end this test's read so it sees the other app's write
    return db.session.scalar(select(AuditEvent.ip).where(AuditEvent.actor_id == user.id))


def test_x_forwarded_for_is_ignored_by_default(app: Flask) -> None:
    assert app.config["TRUSTED_PROXY_HOPS"] == 0
    assert _logged_in_from(app, "203.0.113.9") == "127.0.0.1"


def test_x_forwarded_for_gives_the_address_when_one_proxy_is_trusted(behind_one_proxy: Flask) -> None:
    assert _logged_in_from(behind_one_proxy, "198.51.100.1, 203.0.113.9") == "203.0.113.9"


# --- 17. How a download is named -------------------------------------------------------------------------

NASTY = 'Zoë "Zed" O\'Neil\r\nSet-Cookie: x=1\t\\..\\/etc\u202e'


def _disposition(response) -> tuple[str, dict[str, str]]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200
    value = response.headers["Content-Disposition"]
    assert "\r" not in value and "\n" not in value
    assert not any(cookie.startswith("x=") for cookie in response.headers.getlist("Set-Cookie"))
    return parse_options_header(value)


@pytest.mark.parametrize(("name", "safe"), [
    ('say "hi".csv', 'say "hi".csv'),
    ("a\r\nb.csv", "a b.csv"),
    ("../../etc/passwd", "etc-passwd"),
    ("..\\secret.txt", "secret.txt"),
    ("-rf .csv", "rf .csv"),
    ("résumé.pdf", "résumé.pdf"),
    ("evil\u202etxt.exe", "evil txt.exe"),
    ("\x00\x01", "download"),
    ("...", "download"),
    ("x" * 300 + ".pdf", "x" * 116 + ".pdf"),
])
def test_a_download_name_keeps_what_it_can_and_drops_what_breaks_a_header(name: str, safe: str) -> None:
    assert download_name(name) == safe


def test_a_student_record_downloads_whatever_the_students_name(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    world = make_section(students=1, guardians=True)
    student = world.students[0]
    db.session.execute(update(User).where(User.id == student.id).values(name=NASTY))  # past any input check
    db.session.commit()
    login_as(world.guardians[0])
    kind, options = _disposition(client.get(f"/students/{student.id}/record.html"))
    assert kind == "attachment"
    assert options["filename"].endswith("-record.html") and '"zed"' in options["filename"]
    assert "\r" not in options["filename"] and "\n" not in options["filename"]


def test_a_grid_export_downloads_whatever_the_section_code(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    world = make_section(students=1)
    db.session.execute(update(Section).where(Section.id == world.section.id).values(code='7"B\r\nX: y'))
    db.session.commit()
    login_as(world.teacher)
    kind, options = _disposition(client.get(f"/sections/{world.section.id}/export.csv"))
    assert (kind, options["filename"]) == ("attachment", '7"B X:-y-gradebook.csv')


def test_an_artifact_downloads_whatever_it_was_called(app: Flask, client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    world = make_section(students=1)
    artifact = store_upload(db.session, Upload("photo.png", io.BytesIO(PNG)), folder=app.config["UPLOAD_FOLDER"],
                            owner_student_id=world.students[0].id, uploaded_by=world.teacher)
    db.session.commit()
    db.session.execute(update(Artifact).where(Artifact.id == artifact.id).values(original_name=NASTY + ".png"))
    db.session.commit()
    login_as(world.teacher)
    response = client.get(f"/artifacts/{artifact.id}")
    kind, options = _disposition(response)
    assert kind == "inline" and options["filename"].endswith(".png") and "\n" not in options["filename"]
    assert response.headers["Cache-Control"] == "private, no-store"


def test_the_school_export_downloads_as_a_zip(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    login_as(make_user("admin"))
    started = client.post("/admin/jobs", data={"kind": "export"})
    response = client.get(started.location + "/download")
    assert _disposition(response) == ("attachment", {"filename": "gradebook-school-export.zip"})
    assert zipfile.ZipFile(io.BytesIO(response.data)).namelist()


def test_every_download_goes_through_send_download() -> None:
    """One place names downloads; a view that builds Content-Disposition itself brings the bug back."""
    offenders = [str(path.relative_to(ROOT)) for path in (ROOT / "gradebook").rglob("*.py")
                 if path.name != "downloads.py"
                 and re.search(r"Content-Disposition['\"]|send_file\(|download_name=", path.read_text())]
    assert offenders == []


# --- 18. Which body limit a form gets ------------------------------------------------------------------

THIRTY_MB = b"{" + b" " * (30 * 1024 * 1024)


@pytest.fixture
def csrf_checked(app: Flask) -> Iterator[None]:
    app.config["WTF_CSRF_ENABLED"] = True
    yield
    app.config["WTF_CSRF_ENABLED"] = False


def _token(client: FlaskClient, page: str) -> str:
    return re.search(r'"X-CSRFToken": "([^"]+)"',  # type: ignore[union-attr]
                     client.get(page).get_data(as_text=True)).group(1)


def test_a_30_mb_import_is_accepted_by_size_with_the_csrf_check_on(app: Flask, client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    login_as(make_user("admin"))
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = client.post("/admin/imports", content_type="multipart/form-data", data={
            "csrf_token": _token(client, "/admin/imports"), "kind": "case",
            "file": (io.BytesIO(THIRTY_MB), "big.json")})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code == 303  # taken; the job then fails on the content, not the size
    job = db.session.scalars(select(ImportJob)).one()
    assert job.status == "failed" and "MB" not in job.message


@pytest.mark.usefixtures("csrf_checked")
def test_30_mb_to_another_form_is_a_clear_413(client: FlaskClient) -> None:
    response = client.post("/login", content_type="multipart/form-data", data={
        "csrf_token": _token(client, "/login"), "email": "a@example.org", "file": (io.BytesIO(THIRTY_MB), "x")})
    assert response.status_code == 413
    assert b"Files up to 20 MB can be sent here" in response.data


@pytest.mark.usefixtures("csrf_checked")
def test_the_import_limit_is_only_for_admins(client: FlaskClient) -> None:
    response = client.post("/admin/imports", content_type="multipart/form-data",
                           data={"kind": "case", "file": (io.BytesIO(THIRTY_MB), "big.json")})
    assert response.status_code == 413
    assert b"Files up to 20 MB" in response.data


def test_the_import_page_says_its_limit(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    login_as(make_user("admin"))
    assert b"Up to 50 MB." in client.get("/admin/imports").data


def test_beyond_the_import_limit_is_a_413_naming_it(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    login_as(make_user("admin"))
    response = client.post("/admin/imports", content_type="multipart/form-data", data={
        "kind": "case", "file": (io.BytesIO(b" " * (jobs.MAX_IMPORT_BYTES + 2 * 1024 * 1024)), "huge.json")})
    assert response.status_code == 413 and b"Files up to 51 MB" in response.data
