"""The student's learning path: the map with live levels, next and focus, the playlist of their band (from
their teacher first, then their interests), picking and finishing activities, "I'm ready to show", the pace;
bad input and other students' ids."""

from __future__ import annotations

from datetime import date
from html import unescape

import pytest
from sqlalchemy import func, select

from gradebook.extensions import db
from gradebook.models import Enrollment, LearnerProfile, PortfolioEntry
from gradebook.models.paths import ActivityChoice, PathFocus, ReadyToShow
from gradebook.services import path_views
from tests.builders import SectionWorld, make_evidence, make_section
from tests.path_builders import adjust, assign, make_activity, make_path, make_unit, make_way

TODAY = date(2026, 10, 1)


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(path_views, "today", lambda: TODAY)


@pytest.fixture
def world(app) -> SectionWorld:  # type: ignore[no-untyped-def]
    world = make_section(students=2, standards=4, guardians=True, name="Science 7")
    make_path(world, per_unit=2)  # Unit 1: skills 1-2, Unit 2: skills 3-4; each needs the one before it
    return world


@pytest.fixture
def student(world: SectionWorld):  # type: ignore[no-untyped-def]
    return world.students[0]


def path_url(world: SectionWorld) -> str:
    return f"/portfolio/sections/{world.section.id}/path"


def page(client, world: SectionWorld, query: str = "") -> str:  # type: ignore[no-untyped-def]
    response = client.get(path_url(world) + query)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def focus_block(html: str) -> str:
    return html[html.index('id="focus"'):html.index('id="playlist"')]


def playlist_block(html: str) -> str:
    return html[html.index('id="playlist"'):html.index('id="ready"')]


def count(model) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(func.count()).select_from(model))


# ------------------------------------------------------------------ reading the path

def test_student_home_links_to_the_path_of_each_section(client, login_as, world, student) -> None:
    login_as(student)
    html = client.get("/portfolio").get_data(as_text=True)
    assert f'href="{path_url(world)}"' in html and "My path in Science 7" in html


def test_path_shows_units_with_dates_live_levels_and_the_pace_sentence(client, login_as, world, student) -> None:
    make_evidence(world, student, world.standards[0], 3)
    login_as(student)
    html = page(client, world)
    assert "Unit 1" in html and "Unit 2" in html and "1 Sep" in html and "30 Oct" in html
    assert "Meets" in html and "no evidence yet" in html
    assert "1 of 2 skills at Meets" in html


def test_next_is_the_first_skill_whose_prerequisite_is_at_mastery(client, login_as, world, student) -> None:
    login_as(student)
    assert "Skill 1" in focus_block(page(client, world))  # nothing needed before skill 1
    make_evidence(world, student, world.standards[0], 3)
    html = page(client, world)
    focus = focus_block(html)
    assert "Working on now" in focus and "<h2 id=\"focus-title\">Skill 2" in focus
    assert "after Skill 2" in html  # skill 3 waits on skill 2, and says so


def test_playlist_is_the_students_band_with_teacher_assigned_first_then_interests(client, login_as, world,
                                                                                 student) -> None:
    skill = world.standards[0]
    make_evidence(world, student, skill, 2)  # Approaching: to reach mastery
    plain = make_activity(world, skill, "Plain practice", band="to_mastery", position=5)
    liked = make_activity(world, skill, "Comic strip", band="to_mastery", tags="drawing", position=6)
    given = make_activity(world, skill, "Teacher pick", band="to_mastery", position=7)
    assign(world, given, student.id, note="Try this one first.")
    db.session.add(LearnerProfile(student_id=student.id, interests="Drawing, football"))
    db.session.commit()
    login_as(student)
    playlist = playlist_block(page(client, world))
    first_band = playlist[:playlist.index("<details")]
    assert "To reach mastery" in first_band and "Activity 1.1" not in first_band  # getting started is further down
    order = [first_band.index(t) for t in ("Teacher pick", "Comic strip", plain.title)]
    assert order == sorted(order)
    assert "From your teacher" in first_band and "Try this one first." in first_band
    assert "You like drawing" in first_band
    assert liked.title in first_band
    assert "Getting started" in playlist[playlist.index("<details"):]  # the other bands stay reachable


@pytest.mark.parametrize(("score", "band"), [(None, "Getting started"), (1, "Getting started"),
                                             (2, "To reach mastery"), (3, "Going beyond"), (4, "Going beyond")])
def test_the_band_follows_the_live_level_on_the_focus_skill(client, login_as, world, student, score, band) -> None:
    if score is not None:
        make_evidence(world, student, world.standards[0], score)
    login_as(student)
    html = page(client, world, f"?standard={world.standards[0].id}")
    playlist = playlist_block(html)
    assert playlist.index(f"<h3>{band}</h3>") < playlist.index("<details")


def test_left_out_skill_and_own_target_date_show_with_their_reason_and_count_in_the_pace(client, login_as, world,
                                                                                        student) -> None:
    units = path_views.student_path(db.session, student, world.section.id).units  # type: ignore[union-attr]
    adjust(world, student.id, "left_out", "Shown in her science fair project.", standard=world.standards[1])
    unit = units[0].unit
    adjust(world, student.id, "target_date", "More time after her absence.", unit=unit, target_on=date(2026, 11, 20))
    login_as(student)
    html = page(client, world)
    assert "Left out of your path: Shown in her science fair project." in html
    assert "1 skill left out of this path." in html and "Own target date: 20 Nov 2026." in html
    assert "More time after her absence." in html and "<strong>20 Nov</strong>" in html
    assert f'<option value="{world.standards[1].id}"' not in html  # a left-out skill is not offered as a focus


def test_a_section_without_a_path_is_one_unit_over_the_term(client, login_as, app) -> None:
    plain = make_section(students=1, standards=2, name="Art")
    login_as(plain.students[0])
    html = page(client, plain)
    assert "Whole term" in html and "31 Aug" in html and "18 Dec" in html and "Skill 1" in html


def test_standards_left_in_no_unit_are_listed_apart(client, login_as, app) -> None:
    world = make_section(students=1, standards=3)
    make_unit(world, world.standards[:2])
    login_as(world.students[0])
    html = page(client, world)
    assert "Other skills in this class" in html.split('id="map"')[1] and "Skill 3" in html


# ------------------------------------------------------------------ focus

def test_student_picks_any_next_skill_as_focus(client, login_as, world, student) -> None:
    login_as(student)
    response = client.post(f"{path_url(world)}/focus", data={"competency_id": world.standards[2].id})
    assert response.status_code == 303 and response.headers["Location"].endswith("/path#focus")
    assert "<h2 id=\"focus-title\">Skill 3" in focus_block(page(client, world))
    response = client.post(f"{path_url(world)}/focus", data={"competency_id": world.standards[3].id})
    assert db.session.scalar(select(PathFocus.competency_id)) == world.standards[3].id  # updated, one row
    assert count(PathFocus) == 1


@pytest.mark.parametrize("bad", ["", "abc", "999999"])
def test_focus_on_no_or_an_unknown_skill_is_refused_with_a_message(client, login_as, world, student, bad) -> None:
    login_as(student)
    response = client.post(f"{path_url(world)}/focus", data={"competency_id": bad})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Choose the skill" in html or "not part of this class" in html
    assert count(PathFocus) == 0


def test_focus_on_a_skill_of_another_section_is_refused(client, login_as, world, student) -> None:
    other = make_section(students=1, standards=1)
    login_as(student)
    response = client.post(f"{path_url(world)}/focus", data={"competency_id": other.standards[0].id})
    assert response.status_code == 422 and "not part of this class" in response.get_data(as_text=True)
    assert count(PathFocus) == 0


def test_focus_on_a_left_out_skill_is_refused(client, login_as, world, student) -> None:
    adjust(world, student.id, "left_out", "Shown elsewhere.", standard=world.standards[2])
    login_as(student)
    response = client.post(f"{path_url(world)}/focus", data={"competency_id": world.standards[2].id})
    assert response.status_code == 422 and "left that skill out" in response.get_data(as_text=True)


# ------------------------------------------------------------------ activities

def first_activity(world: SectionWorld):  # type: ignore[no-untyped-def]
    from gradebook.models.paths import Activity

    return db.session.scalar(select(Activity).where(Activity.competency_id == world.standards[0].id)
                             .order_by(Activity.id))


def test_student_picks_an_activity_works_on_it_and_marks_it_done_with_a_reflection(client, login_as, world,
                                                                                  student) -> None:
    activity = first_activity(world)
    url = f"{path_url(world)}/activities/{activity.id}"
    login_as(student)
    assert client.post(url, data={"status": "chosen"}).status_code == 303
    assert "☐ Picked" in page(client, world)
    assert client.post(url, data={"status": "working", "reflection": ""}).status_code == 303
    response = client.post(url, data={"status": "done", "reflection": "I finally get\nfood   webs."})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"#activity-{activity.id}")
    choice = db.session.scalar(select(ActivityChoice))
    assert (choice.status, choice.reflection) == ("done", "I finally get food webs.")  # one line
    html = page(client, world)
    mine = html[html.index('id="my-activities"'):]
    assert activity.title in mine and "✓ Done" in mine and "I finally get food webs." in mine
    assert client.post(url, data={"status": "drop"}).status_code == 303
    assert count(ActivityChoice) == 0


def test_a_reflection_over_300_characters_is_refused_keeping_what_was_typed(client, login_as, world,
                                                                           student) -> None:
    activity = first_activity(world)
    url = f"{path_url(world)}/activities/{activity.id}"
    login_as(student)
    client.post(url, data={"status": "chosen"})
    long = "I learned " + "a lot " * 60
    response = client.post(url, data={"status": "done", "reflection": long})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "300 characters or fewer" in html and long.strip()[:80] in html
    assert db.session.scalar(select(ActivityChoice.status)) == "chosen"


@pytest.mark.parametrize("status", ["", "finished", "DONE"])
def test_an_unknown_status_is_refused(client, login_as, world, student, status) -> None:
    activity = first_activity(world)
    login_as(student)
    response = client.post(f"{path_url(world)}/activities/{activity.id}", data={"status": status})
    assert response.status_code == 422 and "Choose: pick it" in response.get_data(as_text=True)
    assert count(ActivityChoice) == 0


def test_an_activity_of_another_section_or_a_removed_one_answers_404(client, login_as, world, student) -> None:
    other = make_section(students=1, standards=1)
    foreign = make_activity(other, other.standards[0], "Elsewhere")
    removed = make_activity(world, world.standards[0], "Old one")
    from gradebook.models import utcnow

    removed.deleted_at = utcnow()
    db.session.commit()
    login_as(student)
    for activity in (foreign, removed):
        assert client.post(f"{path_url(world)}/activities/{activity.id}",
                           data={"status": "chosen"}).status_code == 404
    assert client.post(f"/portfolio/sections/{other.section.id}/path/activities/{foreign.id}",
                       data={"status": "chosen"}).status_code == 404
    assert count(ActivityChoice) == 0


def test_a_stale_version_is_refused_without_writing(client, login_as, world, student) -> None:
    activity = first_activity(world)
    url = f"{path_url(world)}/activities/{activity.id}"
    login_as(student)
    client.post(url, data={"status": "chosen"})
    client.post(url, data={"status": "working", "version": "1"})
    response = client.post(url, data={"status": "done", "version": "1"})
    assert response.status_code == 422 and "another tab" in response.get_data(as_text=True)
    assert db.session.scalar(select(ActivityChoice.status)) == "working"


# ------------------------------------------------------------------ ready to show

def ways(world: SectionWorld, index: int = 0):  # type: ignore[no-untyped-def]
    from gradebook.models.paths import WayToShow

    return list(db.session.scalars(select(WayToShow).where(WayToShow.competency_id == world.standards[index].id)
                                   .order_by(WayToShow.position)))


def test_student_says_they_are_ready_to_show_with_a_chosen_way_and_their_work(client, login_as, world,
                                                                             student) -> None:
    entry = PortfolioEntry(student_id=student.id, title="My food web poster", visibility="teachers")
    db.session.add(entry)
    db.session.commit()
    project = ways(world)[1]
    login_as(student)
    html = page(client, world)
    assert "Project" in html and "My food web poster" in html
    response = client.post(f"{path_url(world)}/ready", data={"way_id": project.id, "note": "My poster.",
                                                             "portfolio_entry_id": entry.id})
    assert response.status_code == 303 and response.headers["Location"].endswith("#ready")
    request = db.session.scalar(select(ReadyToShow))
    assert (request.status, request.way_id, request.competency_id, request.portfolio_entry_id, request.note) == \
        ("open", project.id, world.standards[0].id, entry.id, "My poster.")
    html = page(client, world)
    assert "In your teacher's queue:" in html and "Project" in html and "Withdraw it" in html


def test_a_second_open_request_for_the_same_skill_says_it_is_already_in_the_queue(client, login_as, world,
                                                                                   student) -> None:
    talk, project = ways(world)
    login_as(student)
    client.post(f"{path_url(world)}/ready", data={"way_id": talk.id, "note": "I can explain it."})
    response = client.post(f"{path_url(world)}/ready", data={"way_id": project.id, "note": "Or a poster."})
    assert response.status_code == 422 and "in your teacher's queue" in unescape(response.get_data(as_text=True))
    assert count(ReadyToShow) == 1


def test_withdrawing_takes_it_out_of_the_queue_and_a_new_one_may_follow(client, login_as, world, student) -> None:
    talk, project = ways(world)
    login_as(student)
    client.post(f"{path_url(world)}/ready", data={"way_id": talk.id, "note": "I can explain it."})
    request = db.session.scalar(select(ReadyToShow))
    assert client.post(f"{path_url(world)}/ready/{request.id}/withdraw").status_code == 303
    db.session.refresh(request)
    assert request.status == "withdrawn" and request.closed_by == student.id and request.closed_at is not None
    assert client.post(f"{path_url(world)}/ready", data={"way_id": project.id, "note": "A poster."}).status_code == 303
    assert client.post(f"{path_url(world)}/ready/{request.id}/withdraw").status_code == 422  # already withdrawn


@pytest.mark.parametrize(("data", "message"), [
    ({"note": "My poster."}, "Choose how you want to show"),
    ({"way_id": "__talk__", "note": "   "}, "Say what you will bring"),
    ({"way_id": "__other_section__", "note": "x"}, "not one of this class"),
    ({"way_id": "999999", "note": "x"}, "not one of this class"),
    ({"way_id": "__talk__", "note": "x" * 2001}, "under 2000 characters"),
    ({"way_id": "__talk__", "note": "x", "portfolio_entry_id": "__someone_elses__"}, "your own portfolio entries"),
])
def test_bad_ready_to_show_input_gets_a_message_and_writes_nothing(client, login_as, world, student, data,
                                                                   message) -> None:
    other = make_section(students=1, standards=1)
    foreign_way = make_way(other, other.standards[0])
    stranger_entry = PortfolioEntry(student_id=world.students[1].id, title="Not mine")
    db.session.add(stranger_entry)
    db.session.commit()
    swap = {"__talk__": ways(world)[0].id, "__other_section__": foreign_way.id, "__someone_elses__": stranger_entry.id}
    form = {k: swap.get(v, v) for k, v in data.items()}
    login_as(student)
    response = client.post(f"{path_url(world)}/ready", data=form)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html
    if form.get("note", "").strip() and len(form["note"]) < 100:
        assert f">{form['note']}</textarea>" in html  # what was typed is kept
    assert count(ReadyToShow) == 0


def test_a_way_of_another_skill_than_the_one_shown_is_refused(client, login_as, world, student) -> None:
    login_as(student)
    later = ways(world, 3)[0]
    response = client.post(f"{path_url(world)}/ready", data={"way_id": later.id, "note": "x",
                                                             "competency_id": world.standards[0].id})
    assert response.status_code == 422 and "for another skill" in response.get_data(as_text=True)
    assert count(ReadyToShow) == 0
    response = client.post(f"{path_url(world)}/ready", data={"way_id": later.id, "note": "x",
                                                             "competency_id": world.standards[3].id})
    assert response.status_code == 303
    assert db.session.scalar(select(ReadyToShow.competency_id)) == world.standards[3].id


# ------------------------------------------------------------------ whose path

def test_another_students_section_and_requests_answer_404(client, login_as, world, student) -> None:
    other = make_section(students=1, standards=1)
    login_as(other.students[0])
    assert client.get(path_url(world)).status_code == 404
    assert client.post(f"{path_url(world)}/focus", data={"competency_id": world.standards[0].id}).status_code == 404
    login_as(student)
    talk = ways(world)[0]
    client.post(f"{path_url(world)}/ready", data={"way_id": talk.id, "note": "x"})
    request = db.session.scalar(select(ReadyToShow))
    login_as(world.students[1])  # same class, another student
    assert client.post(f"{path_url(world)}/ready/{request.id}/withdraw").status_code == 404
    assert db.session.scalar(select(ReadyToShow.status)) == "open"


def test_a_student_no_longer_enrolled_cannot_open_or_change_the_path(client, login_as, world, student) -> None:
    db.session.execute(Enrollment.__table__.update().where(Enrollment.student_id == student.id).values(active=False))
    db.session.commit()
    login_as(student)
    assert client.get(path_url(world)).status_code == 404
    assert client.post(f"{path_url(world)}/focus", data={"competency_id": world.standards[0].id}).status_code == 404


@pytest.mark.parametrize("role", ["teacher", "guardian"])
def test_the_student_page_is_for_students(client, login_as, world, role) -> None:
    login_as(world.teacher if role == "teacher" else world.guardians[0])
    assert client.get(path_url(world)).status_code == 403


# ------------------------------------------------------------------ a fixed number of queries

def busy_path(students: int, per_unit: int) -> SectionWorld:
    world = make_section(students=students, standards=2 * per_unit)
    make_path(world, per_unit=per_unit)
    student = world.students[0]
    make_evidence(world, student, world.standards[0], 3)
    make_evidence(world, student, world.standards[1], 2)
    activity = first_activity(world)
    db.session.add(ActivityChoice(activity_id=activity.id, student_id=student.id, status="done", reflection="ok"))
    db.session.add(LearnerProfile(student_id=student.id, interests="drawing"))
    db.session.add(ReadyToShow(section_id=world.section.id, student_id=student.id,
                               competency_id=world.standards[1].id, way_id=ways(world, 1)[0].id, note="x"))
    db.session.commit()
    return world


def test_the_path_page_issues_the_same_queries_whatever_the_class_size_and_path_length(app, client, login_as,
                                                                                      count_queries) -> None:
    counts = []
    for students, per_unit in ((1, 3), (35, 12)):
        world = busy_path(students, per_unit)
        login_as(world.students[0])
        client.get(path_url(world))
        with count_queries() as q:
            assert client.get(path_url(world)).status_code == 200
        counts.append(q.count)
    assert counts[0] == counts[1], counts


def test_the_students_pace_and_next_agree_with_the_teachers_pacing_view(app) -> None:
    from gradebook.services.paths import class_pacing

    world = make_section(students=3, standards=6)
    units = make_path(world, per_unit=3)
    for i, student in enumerate(world.students):
        for standard in world.standards[:2 * i + 1]:
            make_evidence(world, student, standard, 3)
    adjust(world, world.students[1].id, "left_out", "Shown elsewhere.", standard=world.standards[4])
    adjust(world, world.students[2].id, "target_date", "More time.", unit=units[1], target_on=date(2026, 12, 1))
    pacing = class_pacing(db.session, world.section, today=TODAY)
    for row in pacing.rows:
        mine = path_views.student_path(db.session, row.student, world.section.id)
        assert [u.pace for u in mine.units] == row.paces  # type: ignore[union-attr]
        assert [s.id for s in mine.next] == row.next  # type: ignore[union-attr]


BIG = "9" * 20  # beyond any database integer


def test_ids_beyond_any_integer_are_refused_cleanly(client, login_as, world, student) -> None:
    login_as(student)
    assert client.post(f"{path_url(world)}/focus", data={"competency_id": BIG}).status_code == 422
    assert client.post(f"{path_url(world)}/ready", data={"way_id": BIG, "note": "x"}).status_code == 422
    talk = ways(world)[0]
    response = client.post(f"{path_url(world)}/ready", data={"way_id": talk.id, "note": "x", "portfolio_entry_id": BIG})
    assert response.status_code == 422
    activity = first_activity(world)
    client.post(f"{path_url(world)}/activities/{activity.id}", data={"status": "chosen"})
    response = client.post(f"{path_url(world)}/activities/{activity.id}", data={"status": "done", "version": BIG})
    assert response.status_code == 422 and db.session.scalar(select(ActivityChoice.status)) == "chosen"
    assert client.get(f"/portfolio/sections/{BIG}/path").status_code == 404
    assert client.post(f"{path_url(world)}/activities/{BIG}", data={"status": "chosen"}).status_code == 404
    assert client.post(f"{path_url(world)}/ready/{BIG}/withdraw").status_code == 404
    assert client.get(path_url(world) + f"?standard={BIG}").status_code == 422  # a number no row can have: refused by the one request check


def test_a_focus_or_pick_written_meanwhile_by_another_tab_is_updated_not_duplicated(app, world, student,
                                                                                   monkeypatch) -> None:
    from gradebook.services import path_choices

    activity = first_activity(world)
    db.session.add(PathFocus(section_id=world.section.id, student_id=student.id, competency_id=world.standards[0].id))
    db.session.add(ActivityChoice(activity_id=activity.id, student_id=student.id, status="chosen"))
    db.session.commit()
    for name in ("_focus_row", "_choice_row"):  # the first look misses the row the other tab has just written
        real = getattr(path_choices, name)
        looks = iter([None])
        monkeypatch.setattr(path_choices, name, lambda *a, _real=real, _looks=looks: next(_looks, _real(*a)))
    path_choices.set_focus(db.session, student, world.section.id, world.standards[2].id)
    path_choices.set_activity_status(db.session, student, world.section.id, activity.id, "done", "ok")
    db.session.commit()
    assert count(PathFocus) == 1 and db.session.scalar(select(PathFocus.competency_id)) == world.standards[2].id
    assert count(ActivityChoice) == 1 and db.session.scalar(select(ActivityChoice.status)) == "done"


def test_activities_from_the_teacher_show_first_whatever_their_band_and_on_any_skill(client, login_as, world,
                                                                                    student) -> None:
    skill1, skill4 = world.standards[0], world.standards[3]
    make_evidence(world, student, skill1, 2)  # to reach mastery
    easy = make_activity(world, skill1, "Start here", band="getting_started", position=9)
    later = make_activity(world, skill4, "For later", band="beyond")
    assign(world, easy, student.id, note="Let's look at it on Thursday.")
    assign(world, later, student.id)
    login_as(student)
    html = page(client, world)
    playlist = playlist_block(html)
    assert playlist.index("<h3>From your teacher</h3>") < playlist.index("Start here") < \
        playlist.index("<h3>To reach mastery</h3>")
    assert "Let's look at it on Thursday." in unescape(playlist)
    given = html[html.index('id="from-teacher"'):html.index('id="my-activities"')]
    assert "Start here" in given and "For later" in given
    assert f"standard={skill4.id}#activity-{later.id}" in given


def test_an_htmx_request_gets_the_page_part_and_a_refused_one_its_message(client, login_as, world, student) -> None:
    activity = first_activity(world)
    login_as(student)
    response = client.get(path_url(world), headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert 'id="path-main"' in html and "Vary" in response.headers
    response = client.post(f"{path_url(world)}/activities/{activity.id}", data={"status": "nope"},
                           headers={"HX-Request": "true"})
    assert response.status_code == 422 and "<html" not in response.get_data(as_text=True)
    assert "Choose: pick it" in response.get_data(as_text=True)


def test_a_link_that_is_not_http_is_never_rendered_as_a_link(client, login_as, world, student) -> None:
    make_activity(world, world.standards[0], "Sneaky", band="getting_started", url="javascript:alert(1)")
    login_as(student)
    html = page(client, world)
    assert "Sneaky" in html and "javascript:" not in html
