from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from gradebook.extensions import db
from gradebook.models import User
from tests.builders import PASSWORD, make_user
from tests.conftest import login


@pytest.mark.parametrize(
    ("role", "landing"),
    [("teacher", "/sections"), ("student", "/portfolio"), ("guardian", "/family"), ("admin", "/admin/")],
)
def test_each_role_lands_on_its_own_page(client: FlaskClient, role: str, landing: str) -> None:
    user = make_user(role)
    response = login(client, user)
    assert response.headers["Location"] == landing


def test_login_follows_a_local_next_but_not_an_outside_one(client: FlaskClient) -> None:
    user = make_user("teacher")
    response = client.post("/login?next=//evil.example/x", data={"email": user.email, "password": PASSWORD})
    assert response.headers["Location"] == "/sections"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"email": "", "password": ""}, b"Enter your e-mail or username."),
        ({"email": "not-an-email", "password": "x"}, b"do not match an account"),
        ({"email": "nobody@example.org", "password": "whatever-it-is"}, b"do not match an account"),
        ({"email": "a" * 300 + "@example.org", "password": "x"}, b"Field cannot be longer than 254"),
        ({"email": "teacher@example.org", "password": "p" * 500}, b"Field cannot be longer than 200"),
    ],
)
def test_bad_login_input_gets_a_clear_message(client: FlaskClient, data: dict, message: bytes) -> None:
    response = client.post("/login", data=data)
    assert response.status_code == 422
    assert message in response.data


def test_wrong_password_is_refused(client: FlaskClient) -> None:
    user = make_user("teacher")
    response = client.post("/login", data={"email": user.email, "password": "wrong password!"})
    assert response.status_code == 422
    assert b"do not match an account" in response.data


def test_a_switched_off_account_cannot_log_in(client: FlaskClient) -> None:
    user = make_user("student")
    user.active = False
    db.session.commit()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert b"switched off" in response.data


def test_an_imported_account_without_password_cannot_log_in(client: FlaskClient) -> None:
    user = make_user("student")
    user.password_hash = None
    db.session.commit()
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 422


def test_login_is_rate_limited(app: Flask, client: FlaskClient) -> None:
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    try:
        statuses = [client.post("/login", data={"email": "x@example.org", "password": "nope"}).status_code
                    for _ in range(4)]
    finally:
        app.config["LOGIN_RATE_LIMIT"] = "10000 per minute"
    assert statuses == [422, 422, 422, 429]


def test_logout_ends_the_session(client: FlaskClient) -> None:
    login(client, make_user("teacher"))
    client.post("/logout")
    assert client.get("/sections").status_code == 302


def test_change_password_then_log_in_with_the_new_one(client: FlaskClient) -> None:
    user = make_user("teacher")
    login(client, user)
    response = client.post("/account", data={"current_password": PASSWORD, "new_password": "a new long password",
                                             "confirm": "a new long password"})
    assert response.status_code == 303
    client.post("/logout")
    assert client.post("/login", data={"email": user.email, "password": "a new long password"}).status_code == 303


def test_change_password_logs_out_other_sessions(app: Flask, client: FlaskClient) -> None:
    user = make_user("teacher")
    other_device = app.test_client()
    login(other_device, user)
    login(client, user)
    client.post("/account", data={"current_password": PASSWORD, "new_password": "a new long password",
                                  "confirm": "a new long password"})
    assert other_device.get("/sections").status_code == 302
    assert client.get("/sections").status_code == 200


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"current_password": "wrong", "new_password": "a new long password", "confirm": "a new long password"},
         b"current password is not right"),
        ({"current_password": PASSWORD, "new_password": "short", "confirm": "short"}, b"at least 10 characters"),
        ({"current_password": PASSWORD, "new_password": "a new long password", "confirm": "different words"},
         b"two new passwords differ"),
        ({"current_password": "", "new_password": "", "confirm": ""}, b"Enter your current password."),
        ({"current_password": PASSWORD, "new_password": "x" * 300, "confirm": "x" * 300}, b"cannot be longer than 200"),
    ],
)
def test_bad_password_change_gets_a_clear_message(client: FlaskClient, data: dict, message: bytes) -> None:
    user = make_user("teacher")
    login(client, user)
    response = client.post("/account", data=data)
    assert response.status_code == 422
    assert message in response.data
    assert db.session.get(User, user.id).password_hash == user.password_hash


def test_set_password_link_works_once(client: FlaskClient) -> None:
    from gradebook.services.accounts import issue_set_password_link

    user = make_user("student")
    user.password_hash = None
    token = issue_set_password_link(db.session, user)
    db.session.commit()
    data = {"new_password": "my first password", "confirm": "my first password"}
    assert client.post(f"/set-password/{token}", data=data).status_code == 303
    assert client.post(f"/set-password/{token}", data=data).status_code == 404
    assert client.post("/login", data={"email": user.email, "password": "my first password"}).status_code == 303


def test_unknown_set_password_link_is_404(client: FlaskClient) -> None:
    assert client.get("/set-password/not-a-token").status_code == 404


@pytest.mark.usefixtures("csrf_on")
def test_a_form_without_its_csrf_token_is_refused_with_a_message(client: FlaskClient) -> None:
    user = make_user("teacher")
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert b"form expired" in response.data


@pytest.mark.usefixtures("csrf_on")
def test_a_wrong_csrf_token_is_refused(client: FlaskClient) -> None:
    user = make_user("teacher")
    response = client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": "forged"})
    assert response.status_code == 400


@pytest.mark.usefixtures("csrf_on")
def test_an_htmx_request_may_carry_the_token_in_a_header(client: FlaskClient) -> None:
    import re

    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)  # type: ignore[union-attr]
    user = make_user("teacher")
    response = client.post("/login", data={"email": user.email, "password": PASSWORD},
                           headers={"X-CSRFToken": token, "HX-Request": "true"})
    assert response.status_code == 303


def test_security_headers_are_sent(client: FlaskClient) -> None:
    response = client.get("/login")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert {"HX-Request", "HX-Boosted", "HX-Request-Type"} <= {v.strip() for v in response.headers["Vary"].split(",")}


def test_session_cookie_is_httponly_and_samesite(client: FlaskClient) -> None:
    user = make_user("teacher")
    response = login(client, user)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_errors_come_as_a_fragment_for_htmx_and_a_page_otherwise(client: FlaskClient) -> None:
    login(client, make_user("student"))
    page = client.get("/admin/")
    fragment = client.get("/admin/", headers={"HX-Request": "true"})
    assert page.status_code == fragment.status_code == 403
    assert b"<html" in page.data and b"<html" not in fragment.data


def test_anonymous_htmx_request_is_told_to_log_in(client: FlaskClient) -> None:
    response = client.get("/sections", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/login")


def test_unknown_page_is_a_friendly_404(client: FlaskClient) -> None:
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert b"could not find that page" in response.data
