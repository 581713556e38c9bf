"""Every page of every role passes axe-core with no violations of any impact, and the student and family pages
can be walked with the keyboard alone (Tab reaches every control, and the focused one is visibly marked)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from axe_playwright_python.sync_playwright import Axe
from sqlalchemy import select

from gradebook.demo import DEMO_PASSWORD, seed_demo
from gradebook.extensions import db
from gradebook.models import (
    Assessment,
    Competency,
    Enrollment,
    Evidence,
    Framework,
    PortfolioEntry,
    Section,
    SectionStandard,
    SectionTeacher,
    User,
)
from tests.e2e.conftest import log_in

TEACHER = "okafor@riverside.example"
STUDENT = "maya.johnson@students.riverside.example"
GUARDIAN = "sarah.johnson0@family.riverside.example"
ADMIN = "admin@riverside.example"

_axe = Axe()


@dataclass
class Demo:
    section: int
    assessment: int
    student: int
    standard: int
    framework: int
    entry: int | None
    teacher_student: int
    student_section: int
    student_standard: int
    admin_section: int
    habit: int = 0


def demo() -> Demo:
    seed_demo(db.session)
    db.session.commit()
    teacher = db.session.scalar(select(User).where(User.email == TEACHER))
    maya = db.session.scalar(select(User).where(User.email == STUDENT))
    section = db.session.scalar(select(Section).join(SectionTeacher).where(SectionTeacher.teacher_id == teacher.id)
                                .order_by(Section.id))
    cell = db.session.scalar(select(Evidence).where(Evidence.section_id == section.id, Evidence.status == "scored")
                             .order_by(Evidence.id))
    maya_cell = db.session.scalar(select(Evidence).where(Evidence.student_id == maya.id,
                                                         Evidence.status == "scored").order_by(Evidence.id))
    assessment = db.session.scalar(select(Assessment.id).where(Assessment.section_id == section.id))
    standard = db.session.scalar(select(SectionStandard.competency_id).where(SectionStandard.section_id == section.id)
                                 .order_by(SectionStandard.position))
    framework = db.session.scalar(select(Competency.framework_id).where(Competency.id == standard))
    entry = db.session.scalar(select(PortfolioEntry.id).where(PortfolioEntry.student_id == maya.id,
                                                              PortfolioEntry.deleted_at.is_(None)))
    assert db.session.scalar(select(Enrollment.id).where(Enrollment.student_id == maya.id))
    assert db.session.scalar(select(Framework.id).where(Framework.id == framework))
    from gradebook.models import SectionHabit

    habit = db.session.scalar(select(SectionHabit.competency_id).where(SectionHabit.section_id == section.id)
                              .order_by(SectionHabit.position))
    assert habit is not None  # the demo tracks habits of work
    return Demo(section.id, assessment, cell.student_id, cell.competency_id, framework, entry, cell.student_id,
                maya_cell.section_id, maya_cell.competency_id, section.id, habit)


def pages_for(role: str, d: Demo) -> list[str]:
    s = d.section
    if role == "teacher":
        return ["/sections", f"/sections/{s}", f"/sections/{s}/assessments", f"/sections/{s}/assessments/new",
                f"/sections/{s}/assessments/{d.assessment}", f"/sections/{s}/assessments/{d.assessment}/edit",
                f"/sections/{s}/students/{d.student}/standards/{d.standard}", f"/sections/{s}/reteach",
                f"/sections/{s}/students/{d.teacher_student}", f"/sections/{s}/policy", f"/sections/{s}/path",
                f"/sections/{s}/path/pacing", f"/sections/{s}/path/queue", f"/sections/{s}/path/assign",
                f"/sections/{s}/path/standards/{d.standard}", f"/sections/{s}/path/students/{d.student}",
                f"/students/{d.teacher_student}/conference", f"/students/{d.teacher_student}/term-report",
                f"/students/{d.teacher_student}/record", "/account",
                f"/sections/{s}/habits", f"/sections/{s}/students/{d.student}/habits/{d.habit}"]
    if role == "student":
        maya = db.session.scalar(select(User.id).where(User.email == STUDENT))
        pages = ["/portfolio", f"/students/{maya}/term-report",
                 f"/portfolio/sections/{d.student_section}/standards/{d.student_standard}",
                 f"/portfolio/sections/{d.student_section}/path", "/portfolio/entries/new", "/portfolio/goals/new",
                 "/portfolio/profile", "/account",
                 f"/students/{db.session.scalar(select(User.id).where(User.email == STUDENT))}/record"]
        if d.entry:
            pages.append(f"/portfolio/entries/{d.entry}/edit")
        return pages
    if role == "guardian":
        maya = db.session.scalar(select(User.id).where(User.email == STUDENT))
        return ["/family", f"/family/children/{maya}",
                f"/family/children/{maya}/sections/{d.student_section}/standards/{d.student_standard}",
                f"/students/{maya}/conference", f"/students/{maya}/term-report", f"/students/{maya}/record"]
    maya = db.session.scalar(select(User.id).where(User.email == STUDENT))
    return ["/admin/", "/admin/users", f"/admin/users/{maya}", f"/admin/users/{maya}/audit", "/admin/sections",
            f"/admin/sections/{d.admin_section}", "/admin/frameworks", f"/admin/frameworks/{d.framework}",
            f"/admin/competencies/{d.standard}", "/admin/imports", "/admin/jobs", "/admin/policy", "/admin/grade-bridge",
            "/admin/scale"]


LOGINS = {"teacher": TEACHER, "student": STUDENT, "guardian": GUARDIAN, "admin": ADMIN}


def violations(page) -> list[str]:  # type: ignore[no-untyped-def]
    results = _axe.run(page)
    found = []
    for v in results.response["violations"]:
        targets = "; ".join(" ".join(node["target"]) for node in v["nodes"][:3])
        found.append(f"{v['id']} ({v['impact']}, {len(v['nodes'])}×): {v['help']} — {targets}")
    return found


def test_the_login_page_has_no_accessibility_violations(page) -> None:  # type: ignore[no-untyped-def]
    page.goto("/login")
    assert violations(page) == []


@pytest.mark.parametrize("role", ["teacher", "student", "guardian", "admin"])
def test_every_page_of_the_role_has_no_accessibility_violations(page, role: str) -> None:  # type: ignore[no-untyped-def]
    d = demo()
    log_in(page, LOGINS[role], DEMO_PASSWORD)
    page.wait_for_url(re.compile(r"/(sections|portfolio|family|admin/?)$"))
    report = {}
    for url in pages_for(role, d):
        response = page.goto(url)
        assert response is not None and response.status == 200, url
        found = violations(page)
        if found:
            report[url] = found
    assert report == {}, "\n".join(f"{url}:\n  " + "\n  ".join(items) for url, items in report.items())


FOCUSABLE = ("a[href], button:not([disabled]), input:not([type=hidden]):not([disabled]), select:not([disabled]), "
             "textarea:not([disabled]), summary, [tabindex]:not([tabindex='-1'])")

# For each control Tab lands on: a key for it, and whether the focus is drawn (an outline or a box shadow).
_FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
  const shadow = style.boxShadow && style.boxShadow !== 'none';
  if (el.type === 'radio') return {key: 'radio group ' + el.name, visible: outline || shadow};
  const path = [];
  for (let n = el; n && n !== document.body; n = n.parentElement) {
    path.unshift(n.tagName + ':' + Array.prototype.indexOf.call(n.parentElement ? n.parentElement.children : [], n));
  }
  return {key: path.join('/'), visible: outline || shadow};
}"""

_CONTROLS = """(selector) => Array.from(document.querySelectorAll(selector)).filter(el => {
  const r = el.getBoundingClientRect();
  const s = getComputedStyle(el);
  return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && !el.closest('details:not([open]) > :not(summary)');
}).map(el => {
  if (el.type === 'radio') return 'radio group ' + el.name;  // Tab enters a group once; arrows move in it
  const path = [];
  for (let n = el; n && n !== document.body; n = n.parentElement) {
    path.unshift(n.tagName + ':' + Array.prototype.indexOf.call(n.parentElement ? n.parentElement.children : [], n));
  }
  return path.join('/');
})"""


def keyboard_walk(page) -> tuple[set[str], list[str], set[str]]:  # type: ignore[no-untyped-def]
    """Tab from the top to the end of the page; returns (reached, unmarked focus, every visible control)."""
    controls = set(page.evaluate(_CONTROLS, FOCUSABLE))
    page.evaluate("() => { document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0); }")
    reached: set[str] = set()
    unmarked: list[str] = []
    for _ in range(2 * len(controls) + 20):  # from an autofocused field Tab runs to the end, then wraps round
        page.keyboard.press("Tab")
        focused = page.evaluate(_FOCUSED)
        if focused is None or focused["key"] in reached:
            continue
        reached.add(focused["key"])
        if not focused["visible"]:
            unmarked.append(focused["key"])
        if controls <= reached:
            break
    return reached, unmarked, controls


@pytest.mark.parametrize("role", ["student", "guardian"])
def test_the_student_and_family_pages_can_be_walked_with_the_keyboard(page, role: str) -> None:  # type: ignore[no-untyped-def]
    d = demo()
    log_in(page, LOGINS[role], DEMO_PASSWORD)
    page.wait_for_url(re.compile(r"/(portfolio|family)$"))
    problems = {}
    for url in pages_for(role, d):
        page.goto(url)
        reached, unmarked, controls = keyboard_walk(page)
        missed = controls - reached
        if missed or unmarked:
            problems[url] = {"not reached by Tab": sorted(missed)[:5], "focus not visible": unmarked[:5]}
    assert problems == {}, "\n".join(f"{url}: {p}" for url, p in problems.items())
