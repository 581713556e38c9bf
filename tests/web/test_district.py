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


# ---------------------------------------------------------------- school admins and district admins

def _two_schools():  # type: ignore[no-untyped-def]
    """North (the first school) and South, a section of scores 1, 2, 3, 4 in each, and each school's admin."""
    from datetime import date

    from gradebook.services.evidence import CellValue, record_evidence
    from tests.builders import make_assessment, make_school

    north_school = make_school()
    south_school = School(name="South Middle", default_policy={})
    db.session.add(south_school)
    db.session.commit()
    worlds = []
    for school in (north_school, south_school):
        world = make_section(students=1, standards=1, name=f"{school.name} class", school=school)
        for i, score in enumerate((1, 2, 3, 4)):
            assessment = make_assessment(world, standards=world.standards, title=f"T{i}", on=date(2026, 9, 1 + i))
            record_evidence(db.session, world.teacher, section=world.section, student_id=world.students[0].id,
                            competency_id=world.standards[0].id, value=CellValue("scored", score),
                            observed_on=assessment.assessed_on, assessment=assessment)
        db.session.commit()
        worlds.append(world)
    return worlds[0], worlds[1], make_user("admin", school=north_school), make_user("admin", school=south_school)


def _level_score(world) -> float | None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from gradebook.models import ProficiencyRecord

    db.session.expire_all()
    return db.session.scalar(select(ProficiencyRecord.score).where(
        ProficiencyRecord.section_id == world.section.id, ProficiencyRecord.competency_id == world.standards[0].id))


def test_a_school_admin_sees_only_their_school(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    north, south, north_admin, _south_admin = _two_schools()
    login_as(north_admin)
    people = client.get("/admin/users").get_data(as_text=True)
    assert north.students[0].name in people and north.teacher.name in people
    assert south.teacher.name not in people
    sections = client.get("/admin/sections").get_data(as_text=True)
    assert "North" in sections or north.section.name in sections
    assert south.section.name not in sections
    mine = client.get("/sections").get_data(as_text=True)
    assert north.section.name in mine and south.section.name not in mine
    for url in (f"/admin/users/{south.teacher.id}", f"/admin/sections/{south.section.id}",
                f"/sections/{south.section.id}/grid", f"/admin/users/{south.students[0].id}/audit"):
        assert client.get(url).status_code == 404, url
    assert client.get(f"/admin/sections/{north.section.id}").status_code == 200
    # Another school's student cannot be enrolled from here: not found, nothing changed.
    refused = client.post(f"/admin/sections/{north.section.id}",
                          data={"action": "enrol", "emails": south.students[0].email})
    assert refused.status_code == 422 and "No student account" in refused.get_data(as_text=True)
    # Backups and rosters hold every school: a district admin's.
    assert client.post("/admin/jobs", data={"kind": "backup"}).status_code == 422


def test_a_district_admin_sees_every_school_and_the_picker_narrows_the_lists(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    north, south, _n, _s = _two_schools()
    login_as(make_user("admin"))
    people = client.get("/admin/users").get_data(as_text=True)
    assert north.teacher.name in people and south.teacher.name in people and "All schools (district)" in people
    narrowed = client.get(f"/admin/users?school={south.section.school_id}").get_data(as_text=True)
    assert south.teacher.name in narrowed and north.teacher.name not in narrowed
    kept = client.get("/admin/sections").get_data(as_text=True)  # the choice is kept
    assert south.section.name in kept and north.section.name not in kept
    everything = client.get("/admin/sections?school=").get_data(as_text=True)
    assert south.section.name in everything and north.section.name in everything
    assert client.get(f"/admin/sections/{north.section.id}").status_code == 200


def test_a_school_policy_recomputes_only_that_school_and_the_district_default_reaches_the_rest(
        client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from gradebook.models import District, Job
    from tests.web.test_setup import POLICY

    north, south, _north_admin, south_admin = _two_schools()
    before = _level_score(north), _level_score(south)
    assert before[0] == before[1] and before[0] != 2.5
    login_as(south_admin)
    page = client.get("/admin/policy").get_data(as_text=True)
    assert "For South Middle alone" in page
    assert client.post("/admin/policy", data={**POLICY, "apply": "1"}).status_code == 303
    assert (_level_score(north), _level_score(south)) == (before[0], 2.5)  # average of 1, 2, 3, 4: South only
    job = db.session.scalars(select(Job).where(Job.kind == "recompute")).one()
    assert job.school_id == south.section.school_id and "in 1 section" in job.message
    # The district's default (a district admin, all schools): North follows it; South keeps its own.
    district = District(name="River District", default_policy={})
    db.session.add(district)
    db.session.commit()
    login_as(make_user("admin"))
    assert "district's default" in client.get("/admin/policy").get_data(as_text=True)
    highest = {**POLICY, "method": "highest"}
    assert client.post("/admin/policy", data={**highest, "apply": "1"}).status_code == 303
    north_school = db.session.get(School, north.section.school_id)
    north_school.default_policy = {}  # North follows the district (its own policy cleared)
    db.session.commit()
    from gradebook.services.proficiency import recompute

    recompute(db.session)
    db.session.commit()
    assert (_level_score(north), _level_score(south)) == (4.0, 2.5)
    # South goes back to the district's default.
    login_as(south_admin)
    version = db.session.get(School, south.section.school_id).version
    assert client.post("/admin/policy", data={"apply": "district", "version": version}).status_code == 303
    assert _level_score(south) == 4.0


def test_a_school_admin_saving_the_scale_gives_their_school_its_own(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from gradebook.models import ScaleLevel
    from gradebook.services.proficiency import scale_row_for

    north, south, _north_admin, south_admin = _two_schools()
    shared = scale_row_for(db.session, north.section)
    levels = db.session.scalars(select(ScaleLevel).where(ScaleLevel.scale_id == shared.id)).all()
    data = {f"label_{lv.points:g}": f"South {lv.points:g}" for lv in levels}
    data.update({f"colour_{lv.points:g}": lv.colour for lv in levels})
    data.update({"mastery": "3", "version": shared.version})
    login_as(south_admin)
    assert client.post("/admin/scale", data=data).status_code == 303
    db.session.expire_all()
    south_scale, north_scale = (scale_row_for(db.session, w.section) for w in (south, north))
    assert north_scale.id == shared.id and south_scale.id != shared.id
    labels = lambda row: sorted(db.session.scalars(select(ScaleLevel.label).where(ScaleLevel.scale_id == row.id)))  # noqa: E731
    assert labels(south_scale) == ["South 1", "South 2", "South 3", "South 4"]
    assert "South 1" not in labels(north_scale)


def test_a_roster_puts_people_and_classes_in_their_orgs_schools(app) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from gradebook.interop.oneroster import import_oneroster
    from gradebook.models import SchoolMember, Section, User
    from tests.db.test_oneroster_import import roster_zip, two_schools

    tables = two_schools()
    tables["users"].append({"sourcedId": "site1", "enabledUser": "true", "orgSourcedIds": "north",
                            "role": "administrator", "username": "principal", "givenName": "Robin",
                            "familyName": "North", "email": "robin@river.example"})
    import_oneroster(db.session, roster_zip(tables), actor=None)
    db.session.commit()
    schools = {s.sourced_id: s.id for s in db.session.scalars(select(School))}
    by_sid = {u.sourced_id: u for u in db.session.scalars(select(User))}

    def schools_of(sid: str) -> set[str]:
        ids = set(db.session.scalars(select(SchoolMember.school_id).where(SchoolMember.user_id == by_sid[sid].id)))
        return {name for name, i in schools.items() if i in ids}

    assert {s.sourced_id: s.school_id for s in db.session.scalars(select(Section))} == {
        "cl1": schools["north"], "cl2": schools["north"], "cl3": schools["south"], "cl4": schools["south"]}
    assert (schools_of("t1"), schools_of("t3"), schools_of("s01"), schools_of("s11")) == (
        {"north"}, {"south"}, {"north"}, {"south"})
    assert schools_of("g3") == {"south"}
    assert by_sid["admin1"].district_admin and not by_sid["site1"].district_admin  # a district's, a school's
    assert schools_of("site1") == {"north"}


def test_create_user_makes_a_district_admin_or_a_school_admin(app) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from gradebook.models import SchoolMember, User

    db.session.add(School(name="North Middle", default_policy={}))
    db.session.commit()
    runner = app.test_cli_runner()
    base = ["gradebook", "create-user", "--role", "admin", "--password", "correct horse battery", "--name"]
    assert "district admin" in runner.invoke(args=[*base, "Dana", "--email", "dana@x.org"]).output
    assert "of North Middle" in runner.invoke(args=[*base, "Head", "--email", "head@x.org",
                                                    "--school", "North Middle"]).output
    assert runner.invoke(args=[*base, "Nobody", "--email", "no@x.org", "--school", "Nowhere"]).exit_code != 0
    dana, head = (db.session.scalar(select(User).where(User.email == e)) for e in ("dana@x.org", "head@x.org"))
    assert dana.district_admin and not head.district_admin
    assert db.session.scalars(select(SchoolMember.user_id)).all() == [head.id]


def test_a_school_admins_import_brings_a_framework_of_their_school(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from gradebook.models import Framework, ImportJob
    from tests.db.test_case_import import CASE_DATA
    from tests.web.test_imports import _checked_then_imported, _upload

    _north, south, north_admin, south_admin = _two_schools()
    login_as(north_admin)
    data = (CASE_DATA / "ccss-math-6rp-crosswalk.json").read_bytes()
    response = _upload(client, "case", "crosswalk.json", data)
    _checked_then_imported(client, response)
    imported = db.session.scalars(select(Framework).where(Framework.school_id.is_not(None))).all()
    assert imported and {f.school_id for f in imported} == {_north.section.school_id}
    jobs = db.session.scalars(select(ImportJob)).all()
    assert {j.school_id for j in jobs} == {_north.section.school_id}
    checked = _upload(client, "oneroster", "roster.zip", b"PK")  # a roster of their school (test_school_admin_data)
    assert checked.status_code == 303
    jobs = db.session.scalars(select(ImportJob).order_by(ImportJob.id)).all()
    assert {j.school_id for j in jobs} == {_north.section.school_id}
    login_as(south_admin)
    assert client.get(f"/admin/frameworks/{imported[0].id}").status_code == 404
    assert client.get(f"/admin/imports/{jobs[0].id}").status_code == 404
    assert f"/admin/imports/{jobs[0].id}" not in client.get("/admin/imports").get_data(as_text=True)
    frameworks_page = client.get("/admin/frameworks").get_data(as_text=True)
    assert imported[0].title not in frameworks_page and south.standards[0].framework_id  # the library stays


def test_my_sections_counts_mastery_by_each_sections_school_scale_in_a_fixed_number_of_statements(  # type: ignore[no-untyped-def]
        client: FlaskClient, login_as, count_queries) -> None:
    """A district admin's "My sections": North's mastery is level 3, South's own scale puts it at 4, so the same
    level 3 is at mastery in North and not in South; the page's statements do not grow with the schools."""
    import re

    from tests.builders import make_school
    from tests.web.test_scale_colours import _scale_form

    north_school = make_school()
    south_school = School(name="South Middle", default_policy={}, default_scale_id=north_school.default_scale_id)
    db.session.add(south_school)
    db.session.commit()
    north = make_section(students=1, standards=1, name="A North class", school=north_school)
    login_as(make_user("admin"))
    with count_queries() as one_school:
        client.get("/sections")
    login_as(make_user("admin", school=south_school))
    assert client.post("/admin/scale", data={**_scale_form(), "mastery": "4"}).status_code == 303
    south = make_section(students=1, standards=1, name="B South class", school=south_school)
    make_evidence(north, north.students[0], north.standards[0], score=3)
    make_evidence(south, south.students[0], south.standards[0], score=3)
    login_as(make_user("admin"))
    with count_queries() as two_schools:
        page = client.get("/sections").get_data(as_text=True)
    shown = re.findall(r"<strong>(\d+)%</strong> of student–standard pairs at mastery", page)
    assert shown == ["100", "0"], shown  # North (mastery 3), then South (mastery 4)
    assert two_schools.count == one_school.count, (one_school.count, two_schools.count)
