"""The student's portfolio: where they stand and why, the feedback loop, entries, goals and profile."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from gradebook.extensions import db
from gradebook.models import (
    Enrollment,
    FeedbackReply,
    Goal,
    GoalCompetency,
    LearnerProfile,
    PortfolioEntry,
    PortfolioEntryStandard,
    ReassessmentRequest,
)
from tests.builders import SectionWorld, make_busy_student, make_evidence, make_section


@pytest.fixture
def world(app) -> SectionWorld:  # type: ignore[no-untyped-def]
    return make_section(students=1, standards=2, guardians=True)


@pytest.fixture
def student(world: SectionWorld):  # type: ignore[no-untyped-def]
    return world.students[0]


def count(model) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(func.count()).select_from(model))


def why_url(world: SectionWorld, standard_index: int = 0) -> str:
    return f"/portfolio/sections/{world.section.id}/standards/{world.standards[standard_index].id}"


# ------------------------------------------------------------------ home: where I stand

def test_student_home_lists_a_mastered_standard_before_one_still_growing(client, login_as, world, student) -> None:
    make_evidence(world, student, world.standards[0], 2)
    make_evidence(world, student, world.standards[1], 4)
    login_as(student)
    html = client.get("/portfolio").get_data(as_text=True)
    assert html.index("Skill 2") < html.index("Skill 1")


def test_student_home_puts_the_strongest_competency_first_and_lists_what_is_mastered(client, login_as) -> None:
    world = make_section(students=1, standards=8)  # two competencies of four standards: Group 1 and Group 2
    student = world.students[0]
    make_evidence(world, student, world.standards[0], 2)  # Group 1: Approaching
    make_evidence(world, student, world.standards[4], 4)  # Group 2: Exceeds
    login_as(student)
    html = client.get("/portfolio").get_data(as_text=True)
    assert html.index("Group 2") < html.index("Group 1")
    strengths = html[html.index("What is going well"):html.index('id="feedback"')]
    assert "Skill 5" in strengths and "Skill 1" not in strengths
    assert "1 of 8 skills" in strengths


def test_student_home_keeps_each_sections_competencies_together(client, login_as) -> None:
    first = make_section(students=1, standards=4, name="Alpha science")
    second = make_section(students=0, standards=4, name="Beta math")
    student = first.students[0]
    db.session.add(Enrollment(section_id=second.section.id, student_id=student.id))
    db.session.commit()
    login_as(student)
    html = client.get("/portfolio").get_data(as_text=True)
    alpha, beta = html.index(">Alpha science<"), html.index(">Beta math<")
    assert alpha < html.index("Skill 1") < beta  # Alpha's standards under Alpha's title, then Beta's
    assert "skills</small>" not in html  # nothing mastered yet: no count of nothing


def test_student_home_shows_the_level_of_each_standard(client, login_as, world, student) -> None:
    make_evidence(world, student, world.standards[0], 2)
    login_as(student)
    assert "Approaching" in client.get("/portfolio").get_data(as_text=True)


def test_student_home_shows_how_much_evidence_there_is(client, login_as, world, student) -> None:
    make_evidence(world, student, world.standards[0], 2, on=date(2026, 10, 1))
    make_evidence(world, student, world.standards[0], 2, on=date(2026, 10, 8))
    login_as(student)
    assert "2 pieces of work" in client.get("/portfolio").get_data(as_text=True)


def test_student_home_names_the_next_step_from_the_level_descriptor(client, login_as, world, student) -> None:
    make_evidence(world, student, world.standards[0], 2)
    login_as(student)
    assert "Next step:</strong> Level 3 on skill 1." in client.get("/portfolio").get_data(as_text=True)


# ------------------------------------------------------------------ feedback: new, read, replied

def test_new_teacher_feedback_shows_as_new_on_the_student_home(client, login_as, world, student) -> None:
    make_evidence(world, student, world.standards[0], 2, feedback="Label the axes next time.")
    login_as(student)
    html = client.get("/portfolio").get_data(as_text=True)
    assert "1 new" in html and '<span class="tag new">new</span>' in html


def test_opening_why_this_level_marks_the_feedback_read(client, login_as, world, student) -> None:
    make_evidence(world, student, world.standards[0], 2, feedback="Label the axes next time.")
    login_as(student)
    client.get(why_url(world))
    assert '<span class="tag new">' not in client.get("/portfolio").get_data(as_text=True)


def test_why_page_shows_the_arithmetic(client, login_as, world, student) -> None:
    make_evidence(world, student, world.standards[0], 1, on=date(2026, 10, 1))
    make_evidence(world, student, world.standards[0], 3, on=date(2026, 10, 8))
    login_as(student)
    assert "Working:" in client.get(why_url(world)).get_data(as_text=True)


def test_why_page_says_what_one_more_piece_of_evidence_would_do(client, login_as, world, student) -> None:
    make_evidence(world, student, world.standards[0], 2)
    login_as(student)
    assert "One more 3 would bring this to" in client.get(why_url(world)).get_data(as_text=True)


def test_an_empty_reply_gets_a_message_and_writes_nothing(client, login_as, world, student) -> None:
    evidence = make_evidence(world, student, world.standards[0], 2, feedback="Label the axes.")
    login_as(student)
    response = client.post(f"/portfolio/feedback/{evidence.id}/reply", data={"body": "   "}, follow_redirects=True)
    assert "Write your reply or reflection first." in response.get_data(as_text=True)
    assert count(FeedbackReply) == 0


def test_a_reply_to_feedback_is_saved(client, login_as, world, student) -> None:
    evidence = make_evidence(world, student, world.standards[0], 2, feedback="Label the axes.")
    login_as(student)
    client.post(f"/portfolio/feedback/{evidence.id}/reply", data={"body": "I relabelled them, see page 2."})
    reply = db.session.scalar(select(FeedbackReply))
    assert (reply.evidence_id, reply.author_id, reply.body) == (evidence.id, student.id, "I relabelled them, see page 2.")


def test_a_reply_reaches_the_teachers_my_sections_page(client, login_as, world, student) -> None:
    evidence = make_evidence(world, student, world.standards[0], 2, feedback="Label the axes.")
    login_as(student)
    client.post(f"/portfolio/feedback/{evidence.id}/reply", data={"body": "I relabelled them, see page 2."})
    login_as(world.teacher)
    html = client.get("/sections").get_data(as_text=True)
    assert "Replies from students" in html and "I relabelled them, see page 2." in html


def test_a_student_cannot_reply_to_another_students_feedback(client, login_as, world) -> None:
    other = make_section(students=1, standards=1)
    evidence = make_evidence(other, other.students[0], other.standards[0], 2, feedback="Nice.")
    login_as(world.students[0])
    assert client.post(f"/portfolio/feedback/{evidence.id}/reply", data={"body": "Mine now"}).status_code == 404


# ------------------------------------------------------------------ reassessment requests

def reassessment_url(world: SectionWorld) -> str:
    return why_url(world) + "/reassessment"


def test_an_empty_reassessment_note_gets_a_message_and_writes_nothing(client, login_as, world, student) -> None:
    login_as(student)
    response = client.post(reassessment_url(world), data={"note": ""}, follow_redirects=True)
    assert "Say what you have done since" in response.get_data(as_text=True)
    assert count(ReassessmentRequest) == 0


def test_a_reassessment_request_is_saved_as_open(client, login_as, world, student) -> None:
    login_as(student)
    client.post(reassessment_url(world), data={"note": "I redid the lab with a partner."})
    request = db.session.scalar(select(ReassessmentRequest))
    assert (request.student_id, request.competency_id, request.status) == (student.id, world.standards[0].id, "open")


def test_a_reassessment_request_appears_on_the_teachers_reteach_page(client, login_as, world, student) -> None:
    login_as(student)
    client.post(reassessment_url(world), data={"note": "I redid the lab with a partner."})
    login_as(world.teacher)
    html = client.get(f"/sections/{world.section.id}/reteach").get_data(as_text=True)
    assert "Waiting for reassessment" in html and "I redid the lab with a partner." in html


def test_the_cell_with_an_open_request_shows_it_and_offers_the_observation_as_the_reassessment(
        client, login_as, world, student) -> None:
    login_as(student)
    client.post(reassessment_url(world), data={"note": "I redid the lab with a partner."})
    login_as(world.teacher)
    detail = f"/sections/{world.section.id}/students/{student.id}/standards/{world.standards[0].id}"
    html = client.get(detail).get_data(as_text=True)
    assert "asked for a reassessment" in html and "I redid the lab with a partner." in html
    assert re.search(r'<input[^>]*checked[^>]*name="is_reassessment"|<input[^>]*name="is_reassessment"[^>]*checked', html)
    client.post(f"{detail}/observations", data={"value": "3", "observed_on": date.today().isoformat(),
                                                "is_reassessment": "y"})
    assert db.session.scalar(select(ReassessmentRequest.status)) == "done"
    html = client.get(detail).get_data(as_text=True)
    assert "asked for a reassessment" not in html
    assert not re.search(r'<input[^>]*checked[^>]*name="is_reassessment"|<input[^>]*name="is_reassessment"[^>]*checked',
                         html)


def test_a_second_reassessment_request_is_told_it_already_asked(client, login_as, world, student) -> None:
    login_as(student)
    client.post(reassessment_url(world), data={"note": "I redid the lab."})
    response = client.post(reassessment_url(world), data={"note": "Again, please."}, follow_redirects=True)
    assert "already asked" in response.get_data(as_text=True)
    assert count(ReassessmentRequest) == 1


# ------------------------------------------------------------------ portfolio entries

def test_an_entry_without_a_title_is_refused_with_a_message(client, login_as, world, student) -> None:
    login_as(student)
    response = client.post("/portfolio/entries/new", data={"title": "", "visibility": "family"})
    assert response.status_code == 422 and "Give your work a title." in response.get_data(as_text=True)
    assert count(PortfolioEntry) == 0


def test_an_entry_links_the_students_own_standards(client, login_as, world, student) -> None:
    login_as(student)
    client.post("/portfolio/entries/new", data={"title": "Lab report", "visibility": "family",
                                                "standards": [str(world.standards[0].id)]})
    assert list(db.session.scalars(select(PortfolioEntryStandard.competency_id))) == [world.standards[0].id]


def test_an_entry_ignores_standards_outside_the_students_sections(client, login_as, world, student) -> None:
    elsewhere = make_section(students=1, standards=1)
    login_as(student)
    client.post("/portfolio/entries/new", data={"title": "Lab report", "visibility": "family",
                                                "standards": [str(world.standards[0].id),
                                                              str(elsewhere.standards[0].id)]})
    assert list(db.session.scalars(select(PortfolioEntryStandard.competency_id))) == [world.standards[0].id]


def test_an_entry_with_a_garbled_standard_is_refused_with_a_message(client, login_as, world, student) -> None:
    login_as(student)
    response = client.post("/portfolio/entries/new", data={"title": "Lab report", "visibility": "family",
                                                           "standards": ["not-a-number"]})
    assert response.status_code == 422 and "could not be coerced" in response.get_data(as_text=True)
    assert count(PortfolioEntry) == 0


def add_entry(student, title: str, visibility: str, featured: bool = True) -> PortfolioEntry:  # type: ignore[no-untyped-def]
    entry = PortfolioEntry(student_id=student.id, title=title, visibility=visibility, featured=featured)
    db.session.add(entry)
    db.session.commit()
    return entry


def test_a_private_entry_is_not_shown_to_the_guardian(client, login_as, world, student) -> None:
    add_entry(student, "My secret diary", "private")
    login_as(world.guardians[0])
    assert "My secret diary" not in client.get(f"/family/children/{student.id}").get_data(as_text=True)


def test_a_private_entry_is_not_shown_to_the_teacher(client, login_as, world, student) -> None:
    add_entry(student, "My secret diary", "private")
    login_as(world.teacher)
    assert "My secret diary" not in client.get(f"/students/{student.id}/conference").get_data(as_text=True)


def test_an_entry_for_teachers_is_shown_to_the_teacher(client, login_as, world, student) -> None:
    add_entry(student, "Lab report", "teachers")
    login_as(world.teacher)
    assert "Lab report" in client.get(f"/students/{student.id}/conference").get_data(as_text=True)


def test_featuring_an_entry_toggles_it(client, login_as, world, student) -> None:
    entry = add_entry(student, "Lab report", "family", featured=False)
    login_as(student)
    client.post(f"/portfolio/entries/{entry.id}/feature")
    featured_once = db.session.get(PortfolioEntry, entry.id).featured
    client.post(f"/portfolio/entries/{entry.id}/feature")
    assert (featured_once, db.session.get(PortfolioEntry, entry.id).featured) == (True, False)


# ------------------------------------------------------------------ goals

def test_a_goal_without_standards_is_refused(client, login_as, world, student) -> None:
    login_as(student)
    response = client.post("/portfolio/goals/new", data={"title": "Get to Meets"})
    assert response.status_code == 422 and "Choose at least one skill." in response.get_data(as_text=True)
    assert count(Goal) == 0


def test_a_goal_with_a_past_target_date_is_refused(client, login_as, world, student) -> None:
    login_as(student)
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    response = client.post("/portfolio/goals/new", data={"title": "Get to Meets", "target_on": yesterday,
                                                         "competencies": [str(world.standards[0].id)]})
    assert response.status_code == 422 and "Choose a date from today on." in response.get_data(as_text=True)
    assert count(Goal) == 0


def test_a_goal_is_saved_with_its_standards_and_steps(client, login_as, world, student) -> None:
    login_as(student)
    client.post("/portfolio/goals/new", data={"title": "Get to Meets", "competencies": [str(world.standards[0].id)],
                                              "steps": "Redo the lab\n\nAsk for feedback\n"})
    goal = db.session.scalar(select(Goal))
    links = list(db.session.scalars(select(GoalCompetency.competency_id)))
    assert (goal.title, links) == ("Get to Meets", [world.standards[0].id])


def test_a_goal_shows_the_live_level_of_its_standard(client, login_as, world, student) -> None:
    login_as(student)
    client.post("/portfolio/goals/new", data={"title": "Get to Meets", "competencies": [str(world.standards[0].id)]})
    make_evidence(world, student, world.standards[0], 3)
    html = client.get("/portfolio").get_data(as_text=True)
    goals = html[html.index('id="goals"'):]
    assert "Skill 1 now:" in goals and "Meets" in goals[:goals.index("</article>")]


# ------------------------------------------------------------------ learner profile

def test_the_learner_profile_is_saved(client, login_as, world, student) -> None:
    login_as(student)
    response = client.post("/portfolio/profile", data={"strengths": "Drawing diagrams", "needs": "Time to think",
                                                       "interests": "Rivers", "learns_best": "With a partner"})
    profile = db.session.scalar(select(LearnerProfile).where(LearnerProfile.student_id == student.id))
    assert response.status_code == 303
    assert (profile.strengths, profile.needs, profile.interests, profile.learns_best) == \
        ("Drawing diagrams", "Time to think", "Rivers", "With a partner")


def test_the_saved_learner_profile_shows_on_the_home(client, login_as, world, student) -> None:
    login_as(student)
    client.post("/portfolio/profile", data={"strengths": "Drawing diagrams"})
    assert "Drawing diagrams" in client.get("/portfolio").get_data(as_text=True)


# ------------------------------------------------------------------ access

def test_a_student_gets_404_on_the_why_page_of_a_section_they_are_not_in(client: FlaskClient, login_as, world,
                                                                         student) -> None:
    other = make_section(students=1, standards=1)
    login_as(student)
    url = f"/portfolio/sections/{other.section.id}/standards/{other.standards[0].id}"
    assert client.get(url).status_code == 404


# ------------------------------------------------------------------ a fixed number of queries

def test_why_page_issues_the_same_queries_whatever_the_amount_of_evidence(app, client, login_as,
                                                                          count_queries) -> None:
    small, large = make_busy_student(standards=2, pieces=1), make_busy_student(standards=12, pieces=8)
    counts = [queries_for(client, login_as, count_queries, w.students[0], why_url(w)) for w in (small, large)]
    assert counts[0] == counts[1], counts


def queries_for(client, login_as, count_queries, user, url: str) -> int:  # type: ignore[no-untyped-def]
    login_as(user)
    client.get(url)  # warm: the first request after logging in may load what later ones reuse
    with count_queries() as q:
        response = client.get(url)
    assert response.status_code == 200
    return q.count


def test_a_struggling_student_still_opens_on_what_is_going_well(client, login_as) -> None:
    world = make_section(students=1, standards=4)
    student = world.students[0]
    for day, score in ((1, 1), (8, 1), (15, 2)):  # rising, nowhere near the goal
        make_evidence(world, student, world.standards[0], score, on=date(2026, 9, day))
    make_evidence(world, student, world.standards[1], 1)
    login_as(student)
    html = client.get("/portfolio").get_data(as_text=True)
    opening = html[html.index("What is going well"):html.index('id="feedback"')]
    assert "Skill 1" in opening and "getting better" in opening
    assert "Skill 2" not in opening  # a lower level with no rise is not a strength


def test_the_student_home_says_what_it_would_take_to_reach_the_goal(client, login_as) -> None:
    world = make_section(students=1, standards=2)
    student = world.students[0]
    for day, score in ((1, 1), (8, 3), (15, 3)):  # decaying average 2.76: Approaching despite steady 3s
        make_evidence(world, student, world.standards[0], score, on=date(2026, 9, day))
    login_as(student)
    html = client.get("/portfolio").get_data(as_text=True)
    assert "Four more pieces of work at Meets would bring this to Meets, or one more at Exceeds." in html
    why = client.get(f"/portfolio/sections/{world.section.id}/standards/{world.standards[0].id}")
    assert "Four more pieces of work at Meets would bring this to Meets" in why.get_data(as_text=True)
