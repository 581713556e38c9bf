"""Several schools in one installation (issue 16, part 3): what already holds. A guardian whose children
attend two schools sees both, each with their own section's evidence."""

from __future__ import annotations

from flask.testing import FlaskClient

from gradebook.extensions import db
from gradebook.models import GuardianLink, School
from tests.builders import make_evidence, make_section, make_user


def test_a_guardian_with_children_in_two_schools_sees_both(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    north = make_section(students=1, standards=1, name="North Science 7")
    south = make_section(students=1, standards=1, name="South Math 8")
    other_school = School(name="South Middle", default_policy={"method": "average"})
    db.session.add(other_school)
    db.session.flush()
    south.section.school_id = other_school.id
    assert north.section.school_id != south.section.school_id
    guardian = make_user("guardian", name="Pat Rivera")
    db.session.add_all([GuardianLink(guardian_id=guardian.id, student_id=north.students[0].id),
                        GuardianLink(guardian_id=guardian.id, student_id=south.students[0].id)])
    db.session.commit()
    make_evidence(north, north.students[0], north.standards[0], feedback="North feedback.")
    make_evidence(south, south.students[0], south.standards[0], feedback="South feedback.")
    north.students[0].name, south.students[0].name = "Ana Rivera", "Luis Rivera"
    db.session.commit()

    login_as(guardian)
    home = client.get("/family").get_data(as_text=True)
    assert "Ana Rivera" in home and "Luis Rivera" in home
    for world in (north, south):
        page = client.get(f"/family/children/{world.students[0].id}")
        assert page.status_code == 200 and world.section.name in page.get_data(as_text=True)
