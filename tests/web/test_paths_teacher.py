"""The teacher's learning-path pages through HTTP (#12): building a path, prerequisites, playlists, ways to show,
pacing, one student's adjustments, assigning activities and scoring "ready to show". Every bad input the issue
lists gets a clear message, a 4xx and writes nothing; pacing loads in a fixed number of queries."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from gradebook.extensions import db
from gradebook.models import (
    Activity,
    ActivityAssignment,
    Artifact,
    Competency,
    Evidence,
    EvidenceRevision,
    PathAdjustment,
    PathUnit,
    PathUnitStandard,
    PortfolioEntry,
    PortfolioEntryEvidence,
    Prerequisite,
    ReadyToShow,
    WayToShow,
)
from gradebook.services import paths as svc
from gradebook.services.evidence import CellValue, record_evidence, set_override
from tests.builders import SectionWorld, make_framework, make_section, make_user
from tests.conftest import login

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"PE\x00\x00" + b"\x00" * 64
TODAY = date.today()


def relogin(client: FlaskClient, user) -> None:  # type: ignore[no-untyped-def]
    client.post("/logout")
    login(client, user)


def count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def unit_data(world: SectionWorld, standards: list[Competency], *, title: str = "Forces",
              starts: date = TODAY - timedelta(days=10), target: date = TODAY + timedelta(days=10)) -> dict:
    return {"unit-title": title, "unit-starts_on": starts.isoformat(), "unit-target_on": target.isoformat(),
            "unit-standards": [str(s.id) for s in standards]}


def make_unit(world: SectionWorld, standards: list[Competency], title: str = "Unit", *,
              starts: date = TODAY - timedelta(days=10), target: date = TODAY + timedelta(days=10)) -> PathUnit:
    unit = svc.create_unit(db.session, world.teacher, world.section, title=title, starts_on=starts, target_on=target,
                           competency_ids=[s.id for s in standards])
    db.session.commit()
    return unit


def master(world: SectionWorld, student_index: int, standard: Competency, score: float = 3) -> None:
    record_evidence(db.session, world.teacher, section=world.section, student_id=world.students[student_index].id,
                    competency_id=standard.id, value=CellValue("scored", score), observed_on=TODAY)
    db.session.commit()


@pytest.fixture
def world(app, client: FlaskClient) -> SectionWorld:  # type: ignore[no-untyped-def]
    world = make_section(students=3, standards=4)
    login(client, world.teacher)
    return world


def base(world: SectionWorld) -> str:
    return f"/sections/{world.section.id}/path"


# ---------------------------------------------------------------- the path editor


def test_a_section_without_units_is_one_unit_spanning_the_term(client: FlaskClient, world: SectionWorld) -> None:
    page = client.get(base(world))
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "No units yet, so the path is one unit spanning the term" in text
    path = svc.section_path(db.session, world.section)
    assert path.implicit and path.units[0].standard_ids == [s.id for s in world.standards]
    assert (path.units[0].starts_on, path.units[0].target_on) == (date(2026, 8, 31), date(2026, 12, 18))


def test_the_teacher_builds_two_units_and_orders_them(client: FlaskClient, world: SectionWorld) -> None:
    first = client.post(base(world) + "/units", data=unit_data(world, world.standards[:2], title="Forces"))
    assert first.status_code == 303
    second = client.post(base(world) + "/units", data=unit_data(world, world.standards[2:], title="Energy",
                                                                starts=TODAY + timedelta(days=11),
                                                                target=TODAY + timedelta(days=30)))
    assert second.status_code == 303
    path = svc.section_path(db.session, world.section)
    assert [u.title for u in path.units] == ["Forces", "Energy"]
    assert path.units[1].standard_ids == [s.id for s in world.standards[2:]]
    assert path.unplaced == []

    energy = path.units[1]
    assert client.post(base(world) + f"/units/{energy.id}/move", data={"direction": "up"}).status_code == 303
    assert [u.title for u in svc.section_path(db.session, world.section).units] == ["Energy", "Forces"]
    page = client.get(base(world)).get_data(as_text=True)
    assert page.index("<h2>Energy</h2>") < page.index("<h2>Forces</h2>")


def test_editing_a_unit_keeps_what_was_typed_when_refused(client: FlaskClient, world: SectionWorld) -> None:
    unit = make_unit(world, world.standards[:2], "Forces")
    page = client.get(base(world) + f"/units/{unit.id}/edit")
    assert page.status_code == 200 and 'value="Forces"' in page.get_data(as_text=True)
    data = unit_data(world, world.standards[:1], title="Forces and motion", starts=TODAY, target=TODAY - timedelta(days=1))
    data["unit-version"] = str(unit.version)
    refused = client.post(base(world) + f"/units/{unit.id}/edit", data=data)
    assert refused.status_code == 422
    assert "Forces and motion" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(PathUnit, unit.id).title == "Forces"  # type: ignore[union-attr]

    data["unit-target_on"] = (TODAY + timedelta(days=5)).isoformat()
    assert client.post(base(world) + f"/units/{unit.id}/edit", data=data).status_code == 303
    assert svc.section_path(db.session, world.section).units[0].standard_ids == [world.standards[0].id]


def test_a_stale_unit_edit_is_refused(client: FlaskClient, world: SectionWorld) -> None:
    unit = make_unit(world, world.standards[:2], "Forces")
    data = unit_data(world, world.standards[:2], title="Mine")
    data["unit-version"] = str(unit.version - 1 if unit.version > 1 else unit.version + 5)
    refused = client.post(base(world) + f"/units/{unit.id}/edit", data=data)
    assert refused.status_code == 422 and "Someone else changed this" in refused.get_data(as_text=True)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"unit-target_on": (TODAY - timedelta(days=20)).isoformat()}, "is before the start"),
        ({"unit-standards": []}, "Choose at least one standard for the unit."),
        ({"unit-title": ""}, "Give the unit a title."),
        ({"unit-starts_on": "not a date"}, "Not a valid date value."),
    ],
    ids=["target-before-start", "no-standards", "no-title", "bad-date"],
)
def test_a_bad_unit_is_refused_with_a_message_and_nothing_written(client: FlaskClient, world: SectionWorld,
                                                                  change: dict, message: str) -> None:
    data = {**unit_data(world, world.standards[:2], title="Typed title"), **change}
    response = client.post(base(world) + "/units", data=data)
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert message in text
    assert count(PathUnit) == 0 and count(PathUnitStandard) == 0


def test_a_standard_is_in_one_unit_only_and_only_the_sections_standards(client: FlaskClient,
                                                                        world: SectionWorld) -> None:
    make_unit(world, world.standards[:2], "Forces")
    twice = client.post(base(world) + "/units", data=unit_data(world, world.standards[1:3], title="Energy"))
    assert twice.status_code == 422
    assert "is already in the unit “Forces”" in twice.get_data(as_text=True)
    foreign = make_framework(1, code="ART")[0]
    outside = client.post(base(world) + "/units", data=unit_data(world, [foreign], title="Art"))
    assert outside.status_code == 422
    assert "Only standards this section assesses" in outside.get_data(as_text=True)
    assert count(PathUnit) == 1 and count(PathUnitStandard) == 2


def test_editing_or_removing_the_path_never_touches_evidence(client: FlaskClient, world: SectionWorld) -> None:
    master(world, 0, world.standards[0])
    unit = make_unit(world, world.standards[:2], "Forces")
    before = [tuple(r) for r in db.session.execute(select(Evidence.id, Evidence.score, Evidence.version)).all()]
    revisions = count(EvidenceRevision)
    client.post(base(world) + f"/units/{unit.id}/edit", data=unit_data(world, world.standards[:3], title="Forces!"))
    assert client.post(base(world) + f"/units/{unit.id}/delete").status_code == 303
    assert count(PathUnit) == 0
    assert [tuple(r) for r in db.session.execute(select(Evidence.id, Evidence.score, Evidence.version)).all()] == before
    assert count(EvidenceRevision) == revisions


# ---------------------------------------------------------------- prerequisites


def pre_data(needs: Competency, first: Competency) -> dict:
    return {"pre-competency_id": str(needs.id), "pre-requires_id": str(first.id)}


def test_prerequisites_are_added_listed_and_removed(client: FlaskClient, world: SectionWorld) -> None:
    a, b = world.standards[:2]
    assert client.post(base(world) + "/prerequisites", data=pre_data(b, a)).status_code == 303
    assert svc.effective_prerequisites(db.session, world.section.id) == {b.id: {a.id}}
    text = client.get(base(world)).get_data(as_text=True)
    assert f"needs {a.code}" in text
    prerequisite = db.session.scalars(select(Prerequisite)).one()
    assert client.post(base(world) + f"/prerequisites/{prerequisite.id}/delete").status_code == 303
    assert count(Prerequisite) == 0


def test_a_prerequisite_cycle_is_refused(client: FlaskClient, world: SectionWorld) -> None:
    a, b, c = world.standards[:3]
    client.post(base(world) + "/prerequisites", data=pre_data(b, a))
    client.post(base(world) + "/prerequisites", data=pre_data(c, b))
    response = client.post(base(world) + "/prerequisites", data=pre_data(a, c))
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "That would make a circle" in text and f"{c.code} needs {b.code} needs {a.code}" in text
    assert count(Prerequisite) == 2


def test_a_cycle_through_a_framework_prerequisite_is_refused(client: FlaskClient, world: SectionWorld) -> None:
    a, b = world.standards[:2]
    db.session.add(Prerequisite(competency_id=b.id, requires_id=a.id, section_id=None, source="case"))
    db.session.commit()
    response = client.post(base(world) + "/prerequisites", data=pre_data(a, b))
    assert response.status_code == 422 and "circle" in response.get_data(as_text=True)
    assert count(Prerequisite) == 1
    # the framework's prerequisite shows, marked as such, and cannot be removed here
    assert "the framework" in client.get(base(world)).get_data(as_text=True)
    framework_one = db.session.scalars(select(Prerequisite)).one()
    refused = client.post(base(world) + f"/prerequisites/{framework_one.id}/delete")
    assert refused.status_code == 422 and count(Prerequisite) == 1
    assert "those from the framework come with the standards" in refused.get_data(as_text=True)


@pytest.mark.parametrize("case", ["outside", "self"])
def test_a_prerequisite_outside_the_section_or_on_itself_is_refused(client: FlaskClient, world: SectionWorld,
                                                                     case: str) -> None:
    foreign = make_framework(1, code="ART")[0]
    a = world.standards[0]
    response = client.post(base(world) + "/prerequisites",
                           data=pre_data(a, foreign) if case == "outside" else pre_data(a, a))
    assert response.status_code == 422
    message = ("Both standards must be ones this section assesses." if case == "outside"
               else "A standard cannot be its own prerequisite.")
    assert message in response.get_data(as_text=True)
    assert count(Prerequisite) == 0


# ---------------------------------------------------------------- playlists and ways to show


def activity_data(standard: Competency, **extra: object) -> dict:
    return {"act-competency_id": str(standard.id), "act-title": "Watch the ramp video", "act-kind": "watch",
            "act-band": "getting_started", "act-minutes": "8", "act-instructions": "Watch, then sketch the forces.",
            "act-interest_tags": "Skateboarding, music, skateboarding", **extra}


def test_the_teacher_builds_a_playlist_with_a_link_and_a_file(client: FlaskClient, world: SectionWorld) -> None:
    standard = world.standards[0]
    made = client.post(base(world) + "/activities",
                       data=activity_data(standard, **{"act-url": "https://example.org/ramp", "act-for_home": "y"}))
    assert made.status_code == 303
    with_file = client.post(base(world) + "/activities", content_type="multipart/form-data", data={
        **activity_data(standard, **{"act-title": "Forces worksheet", "act-band": "to_mastery", "act-kind": "practice"}),
        "act-file": (io.BytesIO(PNG), "sheet.png")})
    assert with_file.status_code == 303
    activities = svc.playlists(db.session, world.section.id)[standard.id]
    assert [a.title for a in activities] == ["Watch the ramp video", "Forces worksheet"]
    assert activities[0].interest_tags == "skateboarding, music" and activities[0].for_home
    assert activities[1].artifact_id is not None

    page = client.get(base(world) + f"/standards/{standard.id}").get_data(as_text=True)
    assert "Watch the ramp video" in page and "suits home" in page and "sheet.png" in page
    assert client.get(f"/activities/{activities[1].id}/file").status_code == 200
    relogin(client, world.students[0])
    assert client.get(f"/activities/{activities[1].id}/file").status_code == 200
    outsider = make_section(students=1, standards=1).students[0]
    relogin(client, outsider)
    assert client.get(f"/activities/{activities[1].id}/file").status_code == 404


@pytest.mark.parametrize("url", ["javascript:alert(1)", "ftp://example.org/file", "example.org", "file:///etc/passwd",
                                 "data:text/html,hi"])
def test_a_link_that_is_not_http_is_refused(client: FlaskClient, world: SectionWorld, url: str) -> None:
    response = client.post(base(world) + "/activities", data=activity_data(world.standards[0], **{"act-url": url}))
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "A link must start with http:// or https://" in text and "Watch the ramp video" in text
    assert count(Activity) == 0


@pytest.mark.parametrize("payload", [EXE, b"\x7fELF\x02\x01\x01" + b"\x00" * 60, b"#!/bin/sh\nrm -rf /\n"],
                         ids=["windows-exe", "elf", "shell-script"])
def test_an_executable_as_an_activity_file_is_refused(client: FlaskClient, world: SectionWorld,
                                                      payload: bytes) -> None:
    response = client.post(base(world) + "/activities", content_type="multipart/form-data", data={
        **activity_data(world.standards[0]), "act-file": (io.BytesIO(payload), "worksheet.pdf")})
    assert response.status_code == 422
    assert "That kind of file is not accepted" in response.get_data(as_text=True)
    assert count(Activity) == 0 and count(Artifact) == 0


def test_editing_and_removing_an_activity(client: FlaskClient, world: SectionWorld) -> None:
    client.post(base(world) + "/activities", data=activity_data(world.standards[0]))
    activity = db.session.scalars(select(Activity)).one()
    page = client.get(base(world) + f"/activities/{activity.id}/edit")
    assert page.status_code == 200 and "Watch the ramp video" in page.get_data(as_text=True)
    edited = client.post(base(world) + f"/activities/{activity.id}/edit",
                         data=activity_data(world.standards[0], **{"act-title": "Ramp video",
                                                                   "act-version": str(activity.version)}))
    assert edited.status_code == 303
    db.session.expire_all()
    assert db.session.get(Activity, activity.id).title == "Ramp video"  # type: ignore[union-attr]
    assert client.post(base(world) + f"/activities/{activity.id}/delete").status_code == 303
    db.session.expire_all()
    assert db.session.get(Activity, activity.id).deleted_at is not None  # type: ignore[union-attr]
    assert svc.playlists(db.session, world.section.id) == {}


def test_a_playlist_is_copied_from_another_of_the_teachers_sections(client: FlaskClient, world: SectionWorld) -> None:
    other = make_section(students=1, standards=1, teacher=world.teacher, name="Other period")
    from gradebook.models import SectionStandard

    db.session.add(SectionStandard(section_id=other.section.id, competency_id=world.standards[0].id, position=5))
    db.session.commit()
    for title in ("Ramp video", "Ramp lab"):
        svc.create_activity(db.session, world.teacher, other.section,
                            svc.ActivityInput(competency_id=world.standards[0].id, title=title))
    db.session.commit()
    url = base(world) + f"/standards/{world.standards[0].id}/copy"
    assert client.post(url, data={"copy-from_section": str(other.section.id)}).status_code == 303
    assert [a.title for a in svc.playlists(db.session, world.section.id)[world.standards[0].id]] == [
        "Ramp video", "Ramp lab"]
    assert client.post(url, data={"copy-from_section": str(other.section.id)}).status_code == 303  # nothing twice
    assert len(svc.playlists(db.session, world.section.id)[world.standards[0].id]) == 2
    stranger = make_section(students=1, standards=1)
    refused = client.post(url, data={"copy-from_section": str(stranger.section.id)})
    assert refused.status_code == 422 and "Choose another of your sections" in refused.get_data(as_text=True)


def test_ways_to_show_are_added_and_one_for_a_standard_outside_the_section_is_refused(
        client: FlaskClient, world: SectionWorld) -> None:
    standard = world.standards[0]
    added = client.post(base(world) + "/ways", data={"way-competency_id": str(standard.id), "way-title": "Project",
                                                      "way-description": "Build a ramp and explain it."})
    assert added.status_code == 303
    assert [w.title for w in svc.ways_to_show(db.session, world.section.id)[standard.id]] == ["Project"]
    foreign = make_framework(1, code="ART")[0]
    refused = client.post(base(world) + "/ways", data={"way-competency_id": str(foreign.id), "way-title": "Video"})
    assert refused.status_code == 422
    assert "That standard is not one this section assesses" in refused.get_data(as_text=True)
    assert count(WayToShow) == 1
    way = db.session.scalars(select(WayToShow)).one()
    assert client.post(base(world) + f"/ways/{way.id}/remove").status_code == 303
    assert svc.ways_to_show(db.session, world.section.id) == {}


# ---------------------------------------------------------------- pacing, adjustments, assignments


def test_the_pacing_view_shows_each_students_pace_sorts_and_filters_behind(client: FlaskClient,
                                                                            world: SectionWorld) -> None:
    # a 20-day unit half-way through: 2 of 4 standards expected; 0 is behind, 2 on track, 4 done.
    make_unit(world, world.standards, "Forces", starts=TODAY - timedelta(days=10), target=TODAY + timedelta(days=10))
    for standard in world.standards:
        master(world, 2, standard)
    for standard in world.standards[:2]:
        master(world, 1, standard)
    page = client.get(base(world) + "/pacing")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "0 of 4 skills at Meets; by today about 2 are expected." in text
    assert "Behind" in text and "On track" in text and "Done" in text

    by_pace = client.get(base(world) + "/pacing?sort=pace").get_data(as_text=True)
    names = [s.name for s in world.students]
    assert by_pace.index(names[0]) < by_pace.index(names[1]) < by_pace.index(names[2])
    behind = client.get(base(world) + "/pacing?behind=1").get_data(as_text=True)
    assert names[0] in behind and names[1] not in behind and "1</strong> of 3 students behind" in behind
    assert f"/sections/{world.section.id}/reteach?standard={world.standards[0].id}" in text


def test_an_override_counts_in_the_pace(client: FlaskClient, world: SectionWorld) -> None:
    make_unit(world, world.standards[:1], "One")
    set_override(db.session, world.teacher, section=world.section, student_id=world.students[0].id,
                 competency_id=world.standards[0].id, level_points=3, reason="Showed it in class.")
    db.session.commit()
    board = svc.class_pacing(db.session, world.section)
    assert board.rows[0].paces[0].status == "done"


def test_an_own_target_date_and_a_left_out_standard_count_in_the_pace(client: FlaskClient,
                                                                      world: SectionWorld) -> None:
    unit = make_unit(world, world.standards, "Forces", starts=TODAY - timedelta(days=10),
                     target=TODAY + timedelta(days=10))
    student = world.students[0]
    url = base(world) + f"/students/{student.id}"
    assert "0 of 4 skills at Meets; by today about 2 are expected." in client.get(url).get_data(as_text=True)

    no_reason = client.post(url + "/target-date", data={"own-unit_id": str(unit.id), "own-reason": "",
                                                        "own-target_on": (TODAY + timedelta(days=50)).isoformat()})
    assert no_reason.status_code == 422 and "Give a reason" in no_reason.get_data(as_text=True)
    assert count(PathAdjustment) == 0
    too_early = client.post(url + "/target-date", data={"own-unit_id": str(unit.id), "own-reason": "Absent",
                                                        "own-target_on": (TODAY - timedelta(days=30)).isoformat()})
    assert too_early.status_code == 422 and "before the unit starts" in too_early.get_data(as_text=True)

    assert client.post(url + "/target-date", data={
        "own-unit_id": str(unit.id), "own-reason": "Two weeks absent",
        "own-target_on": (TODAY + timedelta(days=90)).isoformat()}).status_code == 303
    assert client.post(url + "/left-out", data={"out-competency_id": str(world.standards[3].id),
                                                "out-reason": "Shown in the science fair"}).status_code == 303
    page = client.get(url).get_data(as_text=True)
    assert "0 of 3 skills at Meets; by today none are expected yet." in page
    assert "Own target date" in page and "1 skill left out of this path." in page
    assert "Shown in the science fair" in page and "Two weeks absent" in page
    pace = svc.class_pacing(db.session, world.section).rows[0].paces[0]
    assert (pace.status, pace.total, pace.own_target) == ("on_track", 3, True)

    left_out = db.session.scalars(select(PathAdjustment).where(PathAdjustment.kind == "left_out")).one()
    assert client.post(base(world) + f"/adjustments/{left_out.id}/remove").status_code == 303
    assert svc.class_pacing(db.session, world.section).rows[0].paces[0].total == 4


def test_activities_are_assigned_to_a_reteach_group_and_to_one_student(client: FlaskClient,
                                                                       world: SectionWorld) -> None:
    standard = world.standards[0]
    for title, band in (("Ramp video", "getting_started"), ("Ramp lab", "to_mastery"), ("Design a ramp", "beyond")):
        svc.create_activity(db.session, world.teacher, world.section,
                            svc.ActivityInput(competency_id=standard.id, title=title, band=band))
    db.session.commit()
    for i in (0, 1):
        master(world, i, standard, score=1)
    reteach = client.get(f"/sections/{world.section.id}/reteach?standard={standard.id}").get_data(as_text=True)
    group = f"{world.students[0].id},{world.students[1].id}"
    assert f"/path/assign?standard={standard.id}&amp;students={group}" in reteach
    form = client.get(base(world) + f"/assign?standard={standard.id}&students={group}")
    assert form.status_code == 200 and "Assign the whole playlist (3)" in form.get_data(as_text=True)
    picks = client.get(base(world) + f"/assign?standard={standard.id}").get_data(as_text=True)
    assert f"students={group}" in picks and "2 students</a>" in picks  # the reteach group, one click away

    whole = client.post(base(world) + "/assign", data={
        "assign-students": [str(world.students[0].id), str(world.students[1].id)],
        "assign-competency_id": str(standard.id), "assign-whole": "1", "assign-note": "Start here"})
    assert whole.status_code == 303 and count(ActivityAssignment) == 6
    nothing = client.post(base(world) + "/assign", data={"assign-students": [str(world.students[2].id)],
                                                          "assign-competency_id": str(standard.id)})
    assert nothing.status_code == 422 and "Choose at least one activity" in nothing.get_data(as_text=True)
    lab = db.session.scalars(select(Activity).where(Activity.title == "Ramp lab")).one()
    one = client.post(base(world) + "/assign", data={
        "assign-students": [str(world.students[2].id)], "assign-activities": [str(lab.id)],
        "back": f"/sections/{world.section.id}/path/students/{world.students[2].id}"})
    assert one.status_code == 303 and count(ActivityAssignment) == 7
    assert "Ramp lab" in client.get(base(world) + f"/students/{world.students[2].id}").get_data(as_text=True)


# ---------------------------------------------------------------- the ready-to-show queue


def ready(world: SectionWorld, *, entry: PortfolioEntry | None = None, status: str = "open") -> ReadyToShow:
    way = svc.add_way_to_show(db.session, world.teacher, world.section, competency_id=world.standards[0].id,
                              title=f"Conversation {count(WayToShow)}")
    item = ReadyToShow(section_id=world.section.id, student_id=world.students[0].id,
                       competency_id=world.standards[0].id, way_id=way.id, note="I'll explain my ramp.",
                       portfolio_entry_id=entry.id if entry else None, status=status)
    db.session.add(item)
    db.session.commit()
    return item


def test_scoring_a_ready_to_show_records_evidence_links_the_entry_and_closes_it(client: FlaskClient,
                                                                              world: SectionWorld) -> None:
    entry = PortfolioEntry(student_id=world.students[0].id, title="My ramp", visibility="teachers")
    db.session.add(entry)
    db.session.commit()
    item = ready(world, entry=entry)
    withdrawn = ready(world, status="withdrawn")
    page = client.get(base(world) + "/queue").get_data(as_text=True)
    assert "I&#39;ll explain my ramp." in page and "My ramp" in page
    assert page.count("Score it") == 1  # the withdrawn one is not shown
    landing = client.get("/sections").get_data(as_text=True)
    assert "1 ready to show" in landing

    bad = client.post(base(world) + f"/queue/{item.id}/score", data={
        f"r{item.id}-value": "9", f"r{item.id}-observed_on": TODAY.isoformat()})
    assert bad.status_code == 422 and "off the scale" in bad.get_data(as_text=True)
    assert count(Evidence) == 0

    scored = client.post(base(world) + f"/queue/{item.id}/score", data={
        f"r{item.id}-value": "3", f"r{item.id}-observed_on": TODAY.isoformat(), f"r{item.id}-feedback": "Clear!"})
    assert scored.status_code == 303
    db.session.expire_all()
    evidence = db.session.scalars(select(Evidence)).one()
    assert (evidence.score, evidence.is_reassessment, evidence.feedback) == (3, True, "Clear!")
    closed = db.session.get(ReadyToShow, item.id)
    assert (closed.status, closed.evidence_id, closed.closed_by) == ("scored", evidence.id, world.teacher.id)  # type: ignore[union-attr]
    assert db.session.get(PortfolioEntryEvidence, (entry.id, evidence.id)) is not None
    assert db.session.get(ReadyToShow, withdrawn.id).status == "withdrawn"  # type: ignore[union-attr]
    assert "Nobody is waiting." in client.get(base(world) + "/queue").get_data(as_text=True)
    again = client.post(base(world) + f"/queue/{item.id}/score", data={
        f"r{item.id}-value": "3", f"r{item.id}-observed_on": TODAY.isoformat()})
    assert again.status_code == 303 and count(Evidence) == 1


def test_a_teacher_of_another_section_gets_404(client: FlaskClient, world: SectionWorld) -> None:
    relogin(client, make_section(students=1, standards=1).teacher)
    for url in ("", "/pacing", "/queue", f"/standards/{world.standards[0].id}"):
        assert client.get(base(world) + url).status_code == 404
    assert client.post(base(world) + "/units", data=unit_data(world, world.standards[:1])).status_code == 404
    assert count(PathUnit) == 0


# ---------------------------------------------------------------- a fixed number of queries


def _paced_section(teacher, students: int, per_unit: int) -> SectionWorld:  # type: ignore[no-untyped-def]
    world = make_section(students=students, standards=2 * per_unit, teacher=teacher)
    make_unit(world, world.standards[:per_unit], "First", starts=TODAY - timedelta(days=20), target=TODAY)
    make_unit(world, world.standards[per_unit:], "Second", starts=TODAY, target=TODAY + timedelta(days=20))
    svc.add_prerequisite(db.session, teacher, world.section, competency_id=world.standards[per_unit].id,
                         requires_id=world.standards[0].id)
    for i, student in enumerate(world.students):
        record_evidence(db.session, teacher, section=world.section, student_id=student.id,
                        competency_id=world.standards[i % per_unit].id, value=CellValue("scored", 3),
                        observed_on=TODAY)
    svc.leave_out_standard(db.session, teacher, world.section, student_id=world.students[-1].id,
                           competency_id=world.standards[-1].id, reason="Shown elsewhere")
    svc.give_own_target_date(db.session, teacher, world.section, student_id=world.students[0].id,
                             unit_id=db.session.scalars(select(PathUnit.id).where(
                                 PathUnit.section_id == world.section.id)).first(),
                             target_on=TODAY + timedelta(days=30), reason="Accommodation")
    set_override(db.session, teacher, section=world.section, student_id=world.students[0].id,
                 competency_id=world.standards[1].id, level_points=3, reason="Seen in class")
    db.session.commit()
    return world


@pytest.mark.parametrize("query", ["", "?sort=pace", "?behind=1&sort=pace"])
def test_the_pacing_view_takes_the_same_queries_for_1_or_35_students_and_3_or_12_standards_per_unit(
        app, client: FlaskClient, count_queries, query: str) -> None:  # type: ignore[no-untyped-def]
    teacher = make_user("teacher")
    login(client, teacher)
    counts = []
    for students, per_unit in ((1, 3), (35, 3), (1, 12), (35, 12)):
        world = _paced_section(teacher, students, per_unit)
        url = f"/sections/{world.section.id}/path/pacing{query}"
        client.get(url)  # the first request of a session warms per-process caches (the scale)
        with count_queries() as queries:
            response = client.get(url)
        assert response.status_code == 200
        counts.append(queries.count)
    assert len(set(counts)) == 1, counts


@pytest.mark.parametrize("page", ["", "/queue", "/students/{first}", "/assign?standard={standard}"])
def test_the_editor_queue_student_and_assign_pages_take_the_same_queries_whatever_the_size(
        app, client: FlaskClient, count_queries, page: str) -> None:  # type: ignore[no-untyped-def]
    teacher = make_user("teacher")
    login(client, teacher)
    counts = []
    for students, per_unit in ((1, 3), (35, 12)):
        world = _paced_section(teacher, students, per_unit)
        for student in world.students:
            way = svc.add_way_to_show(db.session, teacher, world.section, competency_id=world.standards[0].id,
                                      title=f"Way {student.id}")
            db.session.add(ReadyToShow(section_id=world.section.id, student_id=student.id,
                                       competency_id=world.standards[0].id, way_id=way.id))
        db.session.commit()
        url = f"/sections/{world.section.id}/path" + page.format(first=world.students[0].id,
                                                                  standard=world.standards[0].id)
        client.get(url)
        with count_queries() as queries:
            assert client.get(url).status_code == 200
        counts.append(queries.count)
    assert counts[0] == counts[1], counts


def test_an_empty_prerequisite_form_says_what_to_choose(client: FlaskClient, world: SectionWorld) -> None:
    response = client.post(base(world) + "/prerequisites", data={"pre-competency_id": "", "pre-requires_id": ""})
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "Choose the standard that needs a prerequisite." in text and "Choose what it needs first." in text
    assert count(Prerequisite) == 0


def test_the_first_unit_can_take_any_standard_and_later_ones_only_the_unplaced(client: FlaskClient,
                                                                              world: SectionWorld) -> None:
    checkbox = 'type="checkbox" value="{}"'
    page = client.get(base(world)).get_data(as_text=True)
    assert all(checkbox.format(s.id) in page for s in world.standards)
    make_unit(world, world.standards[:2], "Forces")
    page = client.get(base(world)).get_data(as_text=True)
    new_unit_form = page[page.index('id="new-unit"'):page.index('id="prerequisites"')]
    assert [checkbox.format(s.id) in new_unit_form for s in world.standards] == [False, False, True, True]


def test_removing_an_adjustment_twice_says_so_and_changes_nothing(client: FlaskClient, world: SectionWorld) -> None:
    adjustment = svc.leave_out_standard(db.session, world.teacher, world.section, student_id=world.students[0].id,
                                        competency_id=world.standards[0].id, reason="Shown elsewhere")
    db.session.commit()
    url = base(world) + f"/adjustments/{adjustment.id}/remove"
    assert client.post(url).status_code == 303
    again = client.post(url)
    assert again.status_code == 422 and "That adjustment is not in force any more." in again.get_data(as_text=True)


def test_next_follows_prerequisites_and_left_out_standards(client: FlaskClient, world: SectionWorld) -> None:
    a, b, c, d = world.standards
    make_unit(world, [a, b], "First")
    make_unit(world, [c, d], "Second", starts=TODAY + timedelta(days=11), target=TODAY + timedelta(days=30))
    svc.add_prerequisite(db.session, world.teacher, world.section, competency_id=b.id, requires_id=a.id)
    svc.add_prerequisite(db.session, world.teacher, world.section, competency_id=d.id, requires_id=c.id)
    db.session.commit()
    rows = {r.student.id: r for r in svc.class_pacing(db.session, world.section).rows}
    assert rows[world.students[0].id].next == [a.id, c.id]
    master(world, 0, a)
    svc.leave_out_standard(db.session, world.teacher, world.section, student_id=world.students[0].id,
                           competency_id=c.id, reason="Shown elsewhere")
    db.session.commit()
    rows = {r.student.id: r for r in svc.class_pacing(db.session, world.section).rows}
    assert rows[world.students[0].id].next == [b.id, d.id]
    assert rows[world.students[1].id].next == [a.id, c.id]
    assert rows[world.students[0].id].paces[1].status == "not_started"
