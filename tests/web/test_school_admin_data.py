"""A school admin's own school's data (issue 16): the school export holds that school and nothing of another
(rows and files); a district admin exports a school or the whole district; a school admin's roster imports
only their school's rows (the others rejected with the reason, nothing outside changed); their standards go to
their school's frameworks; the backup stays the district's, and the page says what to do instead. A roster's
word on an admin's kind is authoritative (shown in the dry run, audited), but never demotes the last district
admin."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from gradebook.extensions import db
from gradebook.interop.oneroster import import_oneroster
from gradebook.models import (
    AuditEvent,
    Base,
    Framework,
    GuardianLink,
    ImportJob,
    Job,
    School,
    Section,
    Term,
    User,
)
from gradebook.services.artifacts import Upload, store_upload
from tests.builders import make_evidence, make_school, make_section, make_user
from tests.db.test_oneroster_import import roster_zip, two_schools

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")


# ---------------------------------------------------------------- the school export

def _schools_with_files(app: Flask) -> dict[str, Any]:
    """North (the first school) and South: a section each with evidence and an uploaded file, a guardian of
    North's student, and each school's admin."""
    north_school = make_school()
    south_school = School(name="South Middle", default_policy={})
    db.session.add(south_school)
    db.session.commit()
    out: dict[str, Any] = {"schools": (north_school, south_school)}
    for key, school in (("north", north_school), ("south", south_school)):
        world = make_section(students=2, standards=2, name=f"{school.name} class", school=school, guardians=True)
        for n, person in enumerate([*world.students, *world.guardians, world.teacher]):
            person.name = f"{key.title()} person {n}"
        evidence = make_evidence(world, world.students[0], world.standards[0], feedback=f"{key} feedback")
        artifact = store_upload(db.session, Upload(f"{key}.png", io.BytesIO(PNG + key.encode())),
                                folder=app.config["UPLOAD_FOLDER"], owner_student_id=world.students[0].id,
                                uploaded_by=world.teacher)
        artifact.evidence_id = evidence.id
        db.session.commit()
        out[key] = world
        out[f"{key}_file"] = artifact.stored_name
        out[f"{key}_admin"] = make_user("admin", school=school)
    return out


def _export(client: FlaskClient, **form: str) -> zipfile.ZipFile:
    started = client.post("/admin/jobs", data={"kind": "export", **form})
    assert started.status_code == 303, started.data
    download = client.get(started.location + "/download")
    assert download.status_code == 200, download.status_code
    return zipfile.ZipFile(io.BytesIO(download.data))


def _rows(archive: zipfile.ZipFile) -> dict[str, list[dict[str, Any]]]:
    return {table: json.loads(archive.read(f"json/{table}.json")) for table in Base.metadata.tables}


def _key(table: str, row: dict[str, Any]) -> tuple[Any, ...]:
    return (table, *[row[c.name] for c in Base.metadata.tables[table].primary_key.columns])


def test_a_school_admins_export_holds_their_school_and_nothing_of_another(app: Flask, client: FlaskClient,  # type: ignore[no-untyped-def]
                                                                          login_as) -> None:
    data = _schools_with_files(app)
    north, south = data["north"], data["south"]
    login_as(data["north_admin"])
    page = client.get("/admin/jobs").get_data(as_text=True)
    assert "Make the export" in page and "Make a backup" not in page and "your school's export" in page
    archive = _export(client)
    rows = _rows(archive)
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["scope"]["district"] is False
    assert [s["name"] for s in manifest["scope"]["schools"]] == [data["schools"][0].name]
    # North's people, section, evidence and file are in it …
    user_ids = {u["id"] for u in rows["users"]}
    north_people = {north.teacher.id, *[s.id for s in north.students], *[g.id for g in north.guardians]}
    assert north_people <= user_ids
    assert [s["id"] for s in rows["sections"]] == [north.section.id]
    assert [e["feedback"] for e in rows["evidence"]] == ["north feedback"]
    names = set(archive.namelist())
    assert f"files/{data['north_file']}" in names and f"files/{data['south_file']}" not in names
    # … and nothing of South: none of its people, sections, schools, records or files.
    south_people = {south.teacher.id, *[s.id for s in south.students], *[g.id for g in south.guardians]}
    assert not south_people & user_ids
    assert {s["id"] for s in rows["schools"]} == {data["schools"][0].id}
    blob = b"".join(archive.read(name) for name in names)
    for text in (south.section.name, "south feedback", south.students[0].name, south.teacher.email,
                 data["south_file"], "South Middle"):
        assert text.encode() not in blob, text
    for table, items in rows.items():
        for row in items:
            for column in ("section_id", "student_id", "teacher_id", "school_id", "user_id", "guardian_id"):
                value = row.get(column)
                assert value is None or value not in (
                    {south.section.id} if column == "section_id" else
                    {data["schools"][1].id} if column == "school_id" else south_people), (table, column, row)
    assert archive.read(f"files/{data['north_file']}").endswith(b"north")
    # The download disclosed North's students only.
    disclosed = set(db.session.scalars(select(AuditEvent.student_id).where(
        AuditEvent.action == "view.school_export", AuditEvent.actor_id == data["north_admin"].id)))
    assert disclosed == {s.id for s in north.students}
    # South's admin cannot reach North's export.
    job = db.session.scalars(select(Job).where(Job.kind == "export")).one()
    login_as(data["south_admin"])
    assert client.get(f"/admin/jobs/{job.id}").status_code == 404
    assert client.get(f"/admin/jobs/{job.id}/download").status_code == 404
    # A school admin cannot export another school by naming it.
    refused = client.post("/admin/jobs", data={"kind": "export", "school": str(data["schools"][0].id)})
    assert refused.status_code == 422 and b"Choose one of your schools" in refused.data


def test_a_district_admin_exports_one_school_or_the_whole_district(app: Flask, client: FlaskClient,  # type: ignore[no-untyped-def]
                                                                   login_as) -> None:
    data = _schools_with_files(app)
    north_school, south_school = data["schools"]
    login_as(make_user("admin"))
    page = client.get("/admin/jobs").get_data(as_text=True)
    assert "All schools (the whole district)" in page and "Make a backup" in page
    whole = _rows(everything := _export(client, school=""))
    assert json.loads(everything.read("manifest.json"))["scope"]["district"] is True
    south = _rows(south_zip := _export(client, school=str(south_school.id)))
    north = _rows(_export(client, school=str(north_school.id)))
    assert [s["name"] for s in json.loads(south_zip.read("manifest.json"))["scope"]["schools"]] == ["South Middle"]
    assert [s["id"] for s in south["sections"]] == [data["south"].section.id]
    # Every record of a section is in its school's export, in the district's, and in no other school's.
    for table in ("sections", "evidence", "evidence_revisions", "enrollments", "section_teachers",
                  "proficiency_records", "artifacts", "guardian_links", "school_members"):
        north_keys = {_key(table, r) for r in north[table]}
        south_keys = {_key(table, r) for r in south[table]}
        assert north_keys and south_keys and not north_keys & south_keys, table
        assert north_keys | south_keys == {_key(table, r) for r in whole[table]}, table
    assert client.post("/admin/jobs", data={"kind": "export", "school": "999"}).status_code == 422


def test_a_school_admin_cannot_make_a_backup_and_is_told_to_export_instead(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    login_as(make_user("admin", school=make_school()))
    refused = client.post("/admin/jobs", data={"kind": "backup"})
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "a district admin makes it" in text and "your school's export" in text
    assert db.session.scalar(select(func.count()).select_from(Job)) == 0


# ---------------------------------------------------------------- a school admin's roster

def _district_roster() -> None:
    """The district's roster, imported by a district admin: North and South, their classes and people."""
    report = import_oneroster(db.session, roster_zip(two_schools()), actor=None)
    assert report.outcome == "imported"
    db.session.commit()


def _upload(client: FlaskClient, kind: str, name: str, data: bytes, **extra: str):  # type: ignore[no-untyped-def]
    return client.post("/admin/imports", data={"kind": kind, "file": (io.BytesIO(data), name), **extra},
                       content_type="multipart/form-data")


def _snapshot(school_id: int) -> dict[str, Any]:
    """What a school has: its sections, its people's names and active flags."""
    from gradebook.models import SchoolMember

    db.session.expire_all()
    members = select(SchoolMember.user_id).where(SchoolMember.school_id == school_id)
    def in_order(rows: Any) -> list[tuple[str, ...]]:
        return sorted(tuple(str(x) for x in r) for r in rows)

    return {"sections": in_order(db.session.execute(select(Section.sourced_id, Section.name, Section.active)
                                                  .where(Section.school_id == school_id)).all()),
            "people": in_order(db.session.execute(select(User.sourced_id, User.name, User.active, User.role,
                                                       User.district_admin).where(User.id.in_(members))).all()),
            "terms": in_order(db.session.execute(select(Term.sourced_id, Term.name, Term.active)).all())}


def test_a_school_admins_roster_imports_their_school_and_rejects_the_rest_with_the_reason(  # type: ignore[no-untyped-def]
        client: FlaskClient, login_as) -> None:
    _district_roster()
    north = db.session.scalars(select(School).where(School.sourced_id == "north")).one()
    south = db.session.scalars(select(School).where(School.sourced_id == "south")).one()
    south_before = _snapshot(south.id)
    tables = two_schools()
    for user in tables["users"]:
        if user["sourcedId"] in ("s01", "s11", "t3"):  # North's student; South's student and teacher
            user["givenName"] += "-renamed"
    tables["classes"].append({"sourcedId": "cl5", "title": "Science 7C", "courseSourcedId": "c-sci",
                              "classCode": "SCI7C", "classType": "scheduled", "schoolSourcedId": "north",
                              "termSourcedIds": "fall"})
    tables["classes"].append({"sourcedId": "cl6", "title": "Math 7C", "courseSourcedId": "c-math",
                              "classCode": "MA7C", "classType": "scheduled", "schoolSourcedId": "south",
                              "termSourcedIds": "fall"})
    tables["academicSessions"][1]["title"] = "Autumn 2026"  # the district's term: not North's to rename
    admin = make_user("admin", school=north)
    login_as(admin)
    page = client.get("/admin/imports").get_data(as_text=True)
    assert "You import for North Middle" in page and "Jobs</a> page" in page
    response = _upload(client, "oneroster", "roster.zip", roster_zip(tables))
    assert response.status_code == 303
    dry = db.session.scalars(select(ImportJob).order_by(ImportJob.id.desc())).first()
    report = dry.report
    assert report["outcome"] == "dry_run", dry.message
    rejected = "\n".join(report["lists"]["rejected"])
    for what in ("school “South Middle” (south) is not yours", "class cl6 belongs to South Middle",
                 "user s11 is not a person of your school", "user t3 is not a person of your school",
                 "term fall is the district’s", "user admin1"):
        assert what in rejected, what
    assert "your roster imports only your school's rows" in rejected
    assert "s01" not in rejected and "cl5" not in rejected
    page = client.get(f"/admin/imports/{dry.id}").get_data(as_text=True)
    assert "Import the valid rows and skip the" in page
    applied = client.post(f"/admin/imports/{dry.id}/apply", data={"skip_rejected": "1"})
    assert applied.status_code == 303
    done = db.session.get(ImportJob, int(applied.location.rsplit("/", 1)[1]))
    assert done.report["outcome"] == "imported", done.message
    # North's rows are in; nothing of South (nor the district's term) changed.
    after = _snapshot(north.id)
    assert ("cl5", "Science 7C", "True") in after["sections"]
    assert any(p[0] == "s01" and p[1].startswith("Student01-renamed") for p in after["people"])
    assert _snapshot(south.id) == south_before
    assert db.session.scalar(select(Section.id).where(Section.sourced_id == "cl6")) is None
    assert db.session.scalar(select(Term.name).where(Term.sourced_id == "fall")) == "Fall 2026"


def test_a_school_admins_bulk_roster_deactivates_nothing_of_another_school(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    _district_roster()
    north = db.session.scalars(select(School).where(School.sourced_id == "north")).one()
    south = db.session.scalars(select(School).where(School.sourced_id == "south")).one()
    south_before = _snapshot(south.id)
    tables = two_schools()  # North's rows alone, as bulk files: what a North-only SIS export would be
    tables["orgs"] = [o for o in tables["orgs"] if o["sourcedId"] != "south"]
    tables["classes"] = [c for c in tables["classes"] if c["schoolSourcedId"] == "north"]
    tables["users"] = [u for u in tables["users"] if u["orgSourcedIds"] == "north" and u["sourcedId"] != "s02"]
    tables["enrollments"] = [e for e in tables["enrollments"] if e["classSourcedId"] in ("cl1", "cl2")
                             and e["userSourcedId"] != "s02"]
    login_as(make_user("admin", school=north))
    _upload(client, "oneroster", "north.zip", roster_zip(tables))
    dry = db.session.scalars(select(ImportJob).order_by(ImportJob.id.desc())).first()
    assert dry.report["outcome"] == "dry_run" and not dry.report["rejected_count"], dry.report
    client.post(f"/admin/imports/{dry.id}/apply")
    assert _snapshot(south.id) == south_before
    db.session.expire_all()
    assert db.session.scalar(select(User.active).where(User.sourced_id == "s02")) is False  # North's, left out
    assert db.session.scalar(select(User.active).where(User.sourced_id == "admin1")) is True


def test_a_school_admins_standards_go_to_their_school_and_the_districts_are_not_changed(  # type: ignore[no-untyped-def]
        client: FlaskClient, login_as) -> None:
    school = make_school()
    db.session.add(Framework(title="District Science", source="csv"))
    db.session.commit()
    login_as(make_user("admin", school=school))
    sheet = b"code,statement\nSCI.1,Explains a model.\n"
    _upload(client, "standards_csv", "mine.csv", sheet, framework_title="North Science")
    dry = db.session.scalars(select(ImportJob).order_by(ImportJob.id.desc())).first()
    client.post(f"/admin/imports/{dry.id}/apply")
    mine = db.session.scalars(select(Framework).where(Framework.title == "North Science")).one()
    assert mine.school_id == school.id
    _upload(client, "standards_csv", "theirs.csv", sheet, framework_title="District Science")
    refused = db.session.scalars(select(ImportJob).order_by(ImportJob.id.desc())).first()
    assert refused.status == "failed" and "the district's framework" in refused.message
    district = db.session.scalars(select(Framework).where(Framework.title == "District Science")).one()
    assert district.school_id is None


# ---------------------------------------------------------------- the roster's word on an admin's kind

def _admins_roster(admin2_org: str, admin1_org: str = "dist") -> bytes:
    tables = two_schools()
    tables["users"][0]["orgSourcedIds"] = admin1_org
    tables["users"].append({"sourcedId": "admin2", "enabledUser": "true", "orgSourcedIds": admin2_org,
                            "role": "administrator", "username": "rae", "givenName": "Rae",
                            "familyName": "Admin", "email": "rae@river.example"})
    return roster_zip(tables)


def test_a_roster_demotes_a_district_admin_it_names_a_site_administrator_shown_first_and_audited(app: Flask) -> None:
    assert import_oneroster(db.session, _admins_roster("dist"), actor=None).outcome == "imported"
    db.session.commit()
    rae = db.session.scalars(select(User).where(User.sourced_id == "admin2")).one()
    assert rae.district_admin
    dry = import_oneroster(db.session, _admins_roster("north"), actor=None, dry_run=True)
    assert any("Rae Admin (admin2" in c and "district admin → school admin" in c for c in dry.role_changes)
    db.session.expire_all()
    assert db.session.get(User, rae.id).district_admin  # a dry run changes nothing
    report = import_oneroster(db.session, _admins_roster("north"), actor=None)
    db.session.commit()
    db.session.expire_all()
    rae = db.session.get(User, rae.id)
    assert report.outcome == "imported" and not rae.district_admin and rae.role == "admin"
    audit = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "roster.role_change")).one()
    assert (audit.target_id, audit.detail["before"], audit.detail["after"]) == (rae.id, "district admin",
                                                                               "school admin")
    # No longer an administrator at all: a teacher.
    tables = two_schools()
    tables["users"].append({"sourcedId": "admin2", "enabledUser": "true", "orgSourcedIds": "north",
                            "role": "teacher", "username": "rae", "givenName": "Rae", "familyName": "Admin",
                            "email": "rae@river.example"})
    report = import_oneroster(db.session, roster_zip(tables), actor=None)
    db.session.commit()
    assert any("school admin → teacher" in c for c in report.role_changes)


def test_a_roster_never_demotes_the_last_district_admin(app: Flask) -> None:
    assert import_oneroster(db.session, _admins_roster("north"), actor=None).outcome == "imported"
    db.session.commit()
    pat = db.session.scalars(select(User).where(User.sourced_id == "admin1")).one()
    assert pat.district_admin and db.session.scalar(select(func.count()).select_from(User).where(
        User.district_admin.is_(True))) == 1
    report = import_oneroster(db.session, _admins_roster("north", admin1_org="north"), actor=None,
                              skip_rejected=True)
    db.session.commit()
    assert any("last district admin" in str(r) and "admin1" in str(r) for r in report.rejected)
    db.session.expire_all()
    assert db.session.get(User, pat.id).district_admin


def test_a_guardian_with_children_in_two_schools_is_a_member_of_both_after_a_roster(app: Flask) -> None:
    """The roster links a guardian to a child in each school; the guardian joins both schools."""
    from gradebook.models import SchoolMember

    tables = two_schools()
    tables["users"][-1]["agentSourcedIds"] = "s11,s01"  # Kim: a child in South and one in North
    import_oneroster(db.session, roster_zip(tables), actor=None)
    db.session.commit()
    kim = db.session.scalars(select(User).where(User.sourced_id == "g3")).one()
    schools = set(db.session.scalars(select(School.sourced_id).where(School.id.in_(
        select(SchoolMember.school_id).where(SchoolMember.user_id == kim.id)))))
    assert schools == {"north", "south"}
    assert db.session.scalar(select(func.count()).select_from(GuardianLink).where(
        GuardianLink.guardian_id == kim.id)) == 2


def test_a_school_admins_roster_does_not_switch_off_someone_who_also_belongs_to_another_school(app: Flask) -> None:
    from gradebook.models import SchoolMember

    _district_roster()
    north = db.session.scalars(select(School).where(School.sourced_id == "north")).one()
    south = db.session.scalars(select(School).where(School.sourced_id == "south")).one()
    teacher = db.session.scalars(select(User).where(User.sourced_id == "t1")).one()
    db.session.add(SchoolMember(user_id=teacher.id, school_id=south.id))  # teaches in both schools
    db.session.commit()
    tables = two_schools()
    next(u for u in tables["users"] if u["sourcedId"] == "t1")["enabledUser"] = "false"
    report = import_oneroster(db.session, roster_zip(tables, mode="delta"), actor=None, school_ids=[north.id],
                              skip_rejected=True)
    db.session.commit()
    assert any("user t1 also belongs to another school" in str(r) for r in report.rejected)
    db.session.expire_all()
    assert db.session.get(User, teacher.id).active
