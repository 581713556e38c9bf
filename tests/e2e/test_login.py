from __future__ import annotations

import re

import pytest

from tests.builders import PASSWORD, make_section, make_user
from tests.e2e.conftest import log_in


@pytest.mark.parametrize(
    ("role", "landing", "heading"),
    [
        ("teacher", "/sections", "My sections"),
        ("student", "/portfolio", "portfolio"),
        ("guardian", "/family", "Your children"),
        ("admin", "/admin/", "School setup"),
    ],
)
def test_each_role_logs_in_through_the_real_page_and_lands_home(page, role: str, landing: str, heading: str) -> None:
    world = make_section(students=1, guardians=True)
    user = {"teacher": world.teacher, "student": world.students[0], "guardian": world.guardians[0]}.get(role) \
        or make_user(role)
    log_in(page, user.email, PASSWORD)
    page.wait_for_url(re.compile(re.escape(landing) + "$"))
    assert heading in page.get_by_role("heading", level=1).inner_text()
    assert page.js_errors == []


def test_a_wrong_password_shows_a_message_in_the_browser(page) -> None:
    user = make_user("teacher")
    log_in(page, user.email, "not the password")
    assert page.get_by_text("do not match an account").is_visible()


def test_log_out_returns_to_the_login_page(page) -> None:
    user = make_user("teacher")
    log_in(page, user.email, PASSWORD)
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(re.compile("/login$"))
    assert page.get_by_text("You are logged out, here and on any other device.").is_visible()
