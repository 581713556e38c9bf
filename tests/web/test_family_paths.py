"""The family's view of the child's learning paths: the pace in plain words per class ("ahead in Science, on
track in Math"), what the child works on next, activities for home as "how you can help"; the conference page
says the same; both in a fixed number of queries."""

from __future__ import annotations

import re
from datetime import date
from html import unescape

import pytest

from gradebook.extensions import db
from gradebook.models import Enrollment, GuardianLink
from gradebook.models.paths import PathFocus
from gradebook.services import path_views
from tests.builders import SectionWorld, make_evidence, make_section
from tests.path_builders import adjust, make_activity, make_path, make_unit

TODAY = date(2026, 10, 1)


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(path_views, "today", lambda: TODAY)


def two_classes() -> tuple[SectionWorld, SectionWorld]:
    """One child in Science (5 of 6 skills mastered a month into the unit: ahead) and Math (3 of 6: on track)."""
    science = make_section(students=1, standards=6, guardians=True, name="Science 7")
    child, guardian = science.students[0], science.guardians[0]
    math = make_section(students=0, standards=6, name="Math 7")
    db.session.add(Enrollment(section_id=math.section.id, student_id=child.id))
    science.section.subject, math.section.subject = "Science", "Math"
    db.session.commit()
    math.students = [child]
    for world, mastered in ((science, 5), (math, 3)):
        make_unit(world, world.standards, title=f"{world.section.subject} unit 1", starts_on=date(2026, 9, 1),
                  target_on=date(2026, 10, 30))
        for standard in world.standards[:mastered]:
            make_evidence(world, child, standard, 3)
    make_activity(math, math.standards[3], "Cook with fractions", band="getting_started", for_home=True,
                  minutes=20)
    make_activity(math, math.standards[3], "Worksheet 4", band="to_mastery", for_home=False)
    assert guardian is not None
    return science, math


def child_page(client, login_as, science: SectionWorld) -> str:  # type: ignore[no-untyped-def]
    login_as(science.guardians[0])
    response = client.get(f"/family/children/{science.students[0].id}")
    assert response.status_code == 200
    return unescape(re.sub(r"<[^>]+>", "", response.get_data(as_text=True)))


def test_child_page_says_the_pace_of_each_class_in_plain_words(app, client, login_as) -> None:
    science, _math = two_classes()
    html = child_page(client, login_as, science)
    paths = html[html.index("Where Student is on each path"):]
    assert "Ahead in Science, on track in Math." in paths
    assert "5 of 6 skills at Meets; by today about 3 are expected." in paths


def test_child_page_says_what_the_child_works_on_next_by_its_statement_not_its_code(app, client, login_as) -> None:
    science, math = two_classes()
    db.session.add(PathFocus(section_id=math.section.id, student_id=math.students[0].id,
                             competency_id=math.standards[4].id))
    db.session.commit()
    html = child_page(client, login_as, science)
    paths = html[html.index("Where Student is on each path"):html.index("What the levels mean")]
    assert "Working on next: Do skill 5 well." in paths  # the child's chosen focus comes first
    assert "Do skill 4 well." in paths  # then the other next skill
    assert math.standards[4].code not in paths and "standard" not in paths.lower()


def test_activities_marked_for_home_show_as_how_you_can_help(app, client, login_as) -> None:
    science, _math = two_classes()
    html = child_page(client, login_as, science)
    paths = html[html.index("Where Student is on each path"):html.index("What the levels mean")]
    assert "How you can help at home" in paths and "Cook with fractions" in paths and "about 20 min" in paths
    assert "Worksheet 4" not in paths  # not marked for home


def test_own_target_date_and_left_out_skills_show_in_the_family_sentence(app, client, login_as) -> None:
    science, _math = two_classes()
    unit = path_views.student_path(db.session, science.students[0], science.section.id).units[0].unit  # type: ignore[union-attr]
    adjust(science, science.students[0].id, "target_date", "Extra time", unit=unit, target_on=date(2026, 12, 1))
    adjust(science, science.students[0].id, "left_out", "Shown elsewhere", standard=science.standards[5])
    html = child_page(client, login_as, science)
    assert "Own target date: 1 Dec 2026." in html and "1 skill left out of this path." in html


def test_conference_page_has_the_paths_and_pace(app, client, login_as) -> None:
    science, _math = two_classes()
    login_as(science.guardians[0])
    html = unescape(client.get(f"/students/{science.students[0].id}/conference").get_data(as_text=True))
    block = html[html.index("Learning paths and pace"):html.index("<h2>Skills")]
    assert "Ahead in Science, on track in Math." in block and "Cook with fractions" in block
    assert "Do skill 4 well" in block


def test_a_child_without_classes_shows_no_path_block(app, client, login_as) -> None:
    world = make_section(students=1, standards=1, guardians=True)
    db.session.execute(Enrollment.__table__.update().values(active=False))
    db.session.commit()
    login_as(world.guardians[0])
    html = client.get(f"/family/children/{world.students[0].id}").get_data(as_text=True)
    assert 'id="paths"' not in html


def test_another_familys_child_path_is_not_shown(app, client, login_as) -> None:
    science, _math = two_classes()
    other = make_section(students=1, standards=1, guardians=True)
    login_as(other.guardians[0])
    assert client.get(f"/family/children/{science.students[0].id}").status_code == 404
    assert client.get(f"/students/{science.students[0].id}/conference").status_code == 404


# ------------------------------------------------------------------ a fixed number of queries

def family_world(students: int, per_unit: int) -> SectionWorld:
    world = make_section(students=students, standards=2 * per_unit, guardians=False)
    make_path(world, per_unit=per_unit)
    child = world.students[0]
    from tests.builders import make_user

    guardian = make_user("guardian")
    db.session.add(GuardianLink(guardian_id=guardian.id, student_id=child.id))
    db.session.commit()
    world.guardians = [guardian]
    for standard in world.standards[:2]:
        make_evidence(world, child, standard, 3)
    return world


@pytest.mark.parametrize("url", ["/family/children/{id}", "/students/{id}/conference"])
def test_family_pages_with_paths_issue_the_same_queries_whatever_the_class_size_and_path_length(
        app, client, login_as, count_queries, url) -> None:
    counts = []
    for students, per_unit in ((1, 3), (35, 12)):
        world = family_world(students, per_unit)
        login_as(world.guardians[0])
        target = url.format(id=world.students[0].id)
        client.get(target)
        with count_queries() as q:
            response = client.get(target)
        html = response.get_data(as_text=True)
        assert response.status_code == 200 and "Unit 1" in html, html[:200]
        counts.append(q.count)
    assert counts[0] == counts[1], counts


def test_the_family_home_says_each_childs_pace_in_one_line(app, client, login_as) -> None:
    science, _math = two_classes()
    login_as(science.guardians[0])
    html = unescape(client.get("/family").get_data(as_text=True))
    assert "Ahead in Science, on track in Math." in html and "#paths" in html


@pytest.mark.parametrize(("mastered", "words"), [(0, "Behind in Science."), (2, "On track in Science."),
                                                 (3, "All done in Science.")])
def test_the_family_words_between_and_after_units(app, client, login_as, mastered, words) -> None:
    world = make_section(students=1, standards=3, guardians=True, name="Science 7")
    world.section.subject = "Science"
    db.session.commit()
    make_unit(world, world.standards[:2], "One", 0, date(2026, 9, 1), date(2026, 9, 20))
    make_unit(world, world.standards[2:], "Two", 1, date(2026, 10, 5) if mastered < 3 else date(2026, 9, 21),
              date(2026, 10, 30))
    for standard in world.standards[:mastered]:
        make_evidence(world, world.students[0], standard, 3)
    html = child_page(client, login_as, world)
    assert words in html
