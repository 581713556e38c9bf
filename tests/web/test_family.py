"""The family's view of a child, in plain words; the conference page; who may see it, and the audit of views."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from gradebook.extensions import db
from gradebook.models import AuditEvent, FeedbackReply, Goal, GoalCompetency, GuardianLink, PortfolioEntry
from tests.builders import SectionWorld, make_busy_student, make_evidence, make_section, make_user


@pytest.fixture
def world(app) -> SectionWorld:  # type: ignore[no-untyped-def]
    return make_section(students=1, standards=2, guardians=True)


@pytest.fixture
def child(world: SectionWorld):  # type: ignore[no-untyped-def]
    return world.students[0]


@pytest.fixture
def guardian(world: SectionWorld):  # type: ignore[no-untyped-def]
    return world.guardians[0]


def child_page(client, child) -> str:  # type: ignore[no-untyped-def]
    response = client.get(f"/family/children/{child.id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def add_entry(student, title: str, visibility: str, featured: bool = True) -> PortfolioEntry:  # type: ignore[no-untyped-def]
    entry = PortfolioEntry(student_id=student.id, title=title, reflection=f"About {title}.", visibility=visibility,
                           featured=featured)
    db.session.add(entry)
    db.session.commit()
    return entry


# ------------------------------------------------------------------ what the family sees

def test_guardian_home_lists_each_linked_child(client, login_as, world, guardian) -> None:
    sibling = make_section(students=1, standards=1).students[0]
    sibling.name = "Zoe Sibling"
    world.students[0].name = "Adam Elder"
    db.session.add(GuardianLink(guardian_id=guardian.id, student_id=sibling.id))
    db.session.commit()
    login_as(guardian)
    html = client.get("/family").get_data(as_text=True)
    assert "Adam Elder" in html and "Zoe Sibling" in html


def test_guardian_home_leaves_out_other_families_children(client, login_as, world, guardian) -> None:
    stranger = make_section(students=1, standards=1).students[0]
    stranger.name = "Someone Else"
    db.session.commit()
    login_as(guardian)
    assert "Someone Else" not in client.get("/family").get_data(as_text=True)


def test_child_page_names_skills_by_their_statement_not_a_bare_code(client, login_as, world, child, guardian) -> None:
    make_evidence(world, child, world.standards[0], 3)
    login_as(guardian)
    html = child_page(client, child)
    assert "Do skill 1 well." in html and world.standards[0].code not in html


def test_child_page_explains_what_the_levels_mean(client, login_as, child, guardian) -> None:
    login_as(guardian)
    html = child_page(client, child)
    assert "What the levels mean" in html and "Has got it" in html


def test_child_page_puts_mastered_skills_under_what_the_child_has_mastered(client, login_as, world, child,
                                                                          guardian) -> None:
    make_evidence(world, child, world.standards[1], 4)
    login_as(guardian)
    html = child_page(client, child)
    going_well = html[html.index("going well"):html.index("is working on")]
    assert "Do skill 2 well." in going_well and "reached the goal" in going_well


def test_child_page_keeps_skills_not_assessed_yet_apart_without_a_next_step(client, login_as, world, child,
                                                                           guardian) -> None:
    make_evidence(world, child, world.standards[0], 2)
    login_as(guardian)
    html = child_page(client, child)
    working, to_come = html[html.index("is working on"):html.index("Not started yet")], \
        html[html.index("Not started yet"):]
    assert "Do skill 1 well." in working and "Level 3 on skill 1." in working  # its next step
    assert "Do skill 2 well." in to_come and "Level 3 on skill 2." not in html  # no next step for untaught skills
    login_as(child)
    home = client.get("/portfolio").get_data(as_text=True)
    assert "no work yet" in home  # skills 2-4, never assessed, are not said to lack "enough" evidence


def test_child_page_shows_featured_work_shared_with_the_family(client, login_as, child, guardian) -> None:
    add_entry(child, "Volcano model", "family")
    login_as(guardian)
    html = child_page(client, child)
    assert "Volcano model" in html and "About Volcano model." in html


def test_child_page_shows_recent_feedback(client, login_as, world, child, guardian) -> None:
    make_evidence(world, child, world.standards[0], 2, feedback="Label the axes next time.")
    login_as(guardian)
    html = child_page(client, child)
    assert "What the teachers said" in html and "Label the axes next time." in html


def test_child_page_shows_the_childs_reply_to_feedback(client, login_as, world, child, guardian) -> None:
    evidence = make_evidence(world, child, world.standards[0], 2, feedback="Label the axes next time.")
    db.session.add(FeedbackReply(evidence_id=evidence.id, author_id=child.id, body="Done on page 2."))
    db.session.commit()
    login_as(guardian)
    assert "Done on page 2." in child_page(client, child)


def test_child_page_shows_the_childs_goals(client, login_as, world, child, guardian) -> None:
    goal = Goal(student_id=child.id, title="Reach Meets on skill 1", target_on=date.today() + timedelta(days=30))
    db.session.add(goal)
    db.session.flush()
    db.session.add(GoalCompetency(goal_id=goal.id, competency_id=world.standards[0].id))
    db.session.commit()
    login_as(guardian)
    assert "Reach Meets on skill 1" in child_page(client, child)


# ------------------------------------------------------------------ another family's child: 404, not 403

@pytest.fixture
def strangers_child(app) -> tuple[SectionWorld, object]:  # type: ignore[no-untyped-def]
    other = make_section(students=1, standards=1, guardians=True)
    return other, other.students[0]


@pytest.mark.parametrize("page", ["child", "why", "conference"])
def test_guardian_cannot_open_another_childs_records(client, login_as, guardian, strangers_child, page) -> None:
    other, stranger = strangers_child
    url = {
        "child": f"/family/children/{stranger.id}",
        "why": f"/family/children/{stranger.id}/sections/{other.section.id}/standards/{other.standards[0].id}",
        "conference": f"/students/{stranger.id}/conference",
    }[page]
    login_as(guardian)
    assert client.get(url).status_code == 404


def test_guardian_cannot_reach_another_childs_why_page_through_their_own_childs_url(client, login_as, world, child,
                                                                                     guardian,
                                                                                     strangers_child) -> None:
    other, _stranger = strangers_child
    login_as(guardian)
    url = f"/family/children/{child.id}/sections/{other.section.id}/standards/{other.standards[0].id}"
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("visibility", ["private", "teachers"])
@pytest.mark.parametrize("page", ["/family/children/{id}", "/students/{id}/conference"])
def test_guardian_never_sees_an_entry_not_shared_with_the_family(client, login_as, child, guardian, visibility,
                                                                 page) -> None:
    add_entry(child, "Not for home", visibility)
    login_as(guardian)
    assert "Not for home" not in client.get(page.format(id=child.id)).get_data(as_text=True)


# ------------------------------------------------------------------ audit: every view by someone else

def audit_events() -> list[AuditEvent]:
    """Views only: logins and changes are audited too, elsewhere."""
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action.startswith("view."))
                                   .order_by(AuditEvent.id)))


@pytest.mark.parametrize(
    ("viewer", "url", "action"),
    [
        ("guardian", "/family/children/{student}", "view.family_page"),
        ("guardian", "/family/children/{student}/sections/{section}/standards/{standard}", "view.why"),
        ("guardian", "/students/{student}/conference", "view.conference"),
        ("teacher", "/students/{student}/conference", "view.conference"),
    ],
)
def test_a_view_of_a_students_records_by_someone_else_is_audited(client, login_as, world, child, viewer, url,
                                                                 action) -> None:
    user = world.guardians[0] if viewer == "guardian" else world.teacher
    login_as(user)
    response = client.get(url.format(student=child.id, section=world.section.id, standard=world.standards[0].id))
    assert response.status_code == 200
    assert [(e.action, e.actor_id, e.student_id) for e in audit_events()] == [(action, user.id, child.id)]


def test_a_students_own_home_writes_no_audit_event(client, login_as, world, child) -> None:
    make_evidence(world, child, world.standards[0], 2, feedback="Label the axes.")
    login_as(child)
    client.get("/portfolio")
    assert audit_events() == []


def test_a_refused_view_writes_no_audit_event(client, login_as, guardian, strangers_child) -> None:
    _other, stranger = strangers_child
    login_as(guardian)
    client.get(f"/family/children/{stranger.id}")
    assert audit_events() == []


# ------------------------------------------------------------------ conference page

def test_conference_page_can_be_opened_by_an_admin(client, login_as, child) -> None:
    login_as(make_user("admin"))
    assert client.get(f"/students/{child.id}/conference").status_code == 200


def test_conference_page_has_every_section_a_conference_needs(client, login_as, child, guardian) -> None:
    login_as(guardian)
    html = client.get(f"/students/{child.id}/conference").get_data(as_text=True)
    headings = ["About", "Skills", "Work to talk about", "Goals", "From the teachers",
                "Questions you may want to ask"]
    assert [h for h in headings if f"<h2>{h}" not in html] == []


# ------------------------------------------------------------------ a fixed number of queries

def queries_for(client, login_as, count_queries, user, url: str) -> int:  # type: ignore[no-untyped-def]
    login_as(user)
    client.get(url)  # warm: the first request after logging in may load what later ones reuse
    with count_queries() as q:
        response = client.get(url)
    assert response.status_code == 200
    return q.count


def test_student_home_issues_the_same_queries_whatever_the_amount_of_evidence(app, client, login_as,
                                                                                count_queries) -> None:
    small, large = make_busy_student(standards=2, pieces=1), make_busy_student(standards=12, pieces=8)
    counts = [queries_for(client, login_as, count_queries, w.students[0], "/portfolio") for w in (small, large)]
    assert counts[0] == counts[1], counts


def test_family_child_page_issues_the_same_queries_whatever_the_amount_of_evidence(app, client, login_as,
                                                                                    count_queries) -> None:
    small, large = make_busy_student(standards=2, pieces=1), make_busy_student(standards=12, pieces=8)
    counts = [queries_for(client, login_as, count_queries, w.guardians[0], f"/family/children/{w.students[0].id}")
              for w in (small, large)]
    assert counts[0] == counts[1], counts


def test_family_why_page_issues_the_same_queries_whatever_the_amount_of_evidence(app, client, login_as,
                                                                                  count_queries) -> None:
    small, large = make_busy_student(standards=2, pieces=1), make_busy_student(standards=12, pieces=8)
    counts = [queries_for(client, login_as, count_queries, w.guardians[0],
                          f"/family/children/{w.students[0].id}/sections/{w.section.id}/standards/{w.standards[0].id}")
              for w in (small, large)]
    assert counts[0] == counts[1], counts


@pytest.mark.parametrize("viewer", ["guardian", "teacher"])
def test_conference_page_issues_the_same_queries_whatever_the_amount_of_evidence(app, client, login_as,
                                                                                 count_queries, viewer) -> None:
    small, large = make_busy_student(standards=2, pieces=1), make_busy_student(standards=12, pieces=8)
    counts = [queries_for(client, login_as, count_queries, w.guardians[0] if viewer == "guardian" else w.teacher,
                          f"/students/{w.students[0].id}/conference") for w in (small, large)]
    assert counts[0] == counts[1], counts


def test_a_struggling_child_page_opens_on_their_best_level_and_goals_moving(client, login_as, world, child,
                                                                          guardian) -> None:
    make_evidence(world, child, world.standards[0], 2)
    make_evidence(world, child, world.standards[1], 1)
    goal = Goal(student_id=child.id, title="Read every day")
    db.session.add(goal)
    db.session.flush()
    from gradebook.models import GoalStep

    db.session.add_all([GoalStep(goal_id=goal.id, text="Monday", done=True), GoalStep(goal_id=goal.id, text="Tuesday")])
    db.session.commit()
    login_as(guardian)
    html = child_page(client, child)
    opening = html[html.index("What is going well"):html.index("is working on")]
    assert "What is going well" in opening and "Nothing at the goal level" not in html
    assert "Do skill 1 well." in opening and "best level so far" in opening  # Approaching, the highest so far
    assert "Do skill 2 well." not in opening
    assert "Read every day" in opening and "1 of 2 steps done" in opening


def test_the_child_page_says_what_it_would_take(client, login_as, world, child, guardian) -> None:
    make_evidence(world, child, world.standards[0], 2)
    login_as(guardian)
    # the decaying average creeps up on 3 (2.65, 2.88, 2.96 …): a 4 gets there at once
    assert "Six more pieces of work at Meets would bring this to Meets, or one more at Exceeds." in child_page(client, child)
