"""OneRoster 1.1 CSV import: a bulk zip of two schools, an idempotent re-import, a delta that moves one student
and deactivates another, bulk completeness, rejected rows, malformed zips that change nothing, the command."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import pytest
from flask import Flask
from sqlalchemy import select

from gradebook.extensions import db
from gradebook.interop.cli_imports import register
from gradebook.interop.oneroster import import_oneroster
from gradebook.models import Enrollment, GuardianLink, School, Section, SectionTeacher, Term, User
from gradebook.services import ServiceError
from gradebook.services.accounts import user_for_token
from tests.db.test_case_import import table_rows

COLUMNS = {
    "orgs": "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId",
    "academicSessions": "sourcedId,status,dateLastModified,title,type,startDate,endDate,parentSourcedId,schoolYear",
    "courses": "sourcedId,status,dateLastModified,schoolYearSourcedId,title,courseCode,grades,orgSourcedId,subjects,"
               "subjectCodes",
    "classes": "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,"
               "schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods",
    "users": "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,"
             "middleName,identifier,email,sms,phone,agentSourcedIds,grades,password",
    "enrollments": "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,"
                   "beginDate,endDate",
}
FILES = tuple(COLUMNS)


def csv_bytes(columns: str | list[str], rows: list[dict[str, str]]) -> bytes:
    header = columns.split(",") if isinstance(columns, str) else columns
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({name: row.get(name, "") for name in header})
    return out.getvalue().encode()


def roster_zip(tables: dict[str, list[dict[str, str]]], *, mode: str = "bulk", manifest: dict[str, str] | None = None,
               raw: dict[str, bytes] | None = None, skip_manifest: bool = False) -> bytes:
    """A OneRoster 1.1 zip; files not in `tables` (or `raw`) are marked absent."""
    present = set(tables) | set(raw or {})
    properties = {"manifest.version": "1.0", "oneroster.version": "1.1", "source.systemName": "Test SIS"}
    properties.update({f"file.{name}": mode if name in present else "absent" for name in FILES})
    properties.update(manifest or {})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        if not skip_manifest:
            archive.writestr("manifest.csv", csv_bytes(["propertyName", "value"],
                                                       [{"propertyName": k, "value": v} for k, v in properties.items()]))
        for name, rows in tables.items():
            archive.writestr(f"{name}.csv", csv_bytes(COLUMNS[name], rows))
        for name, data in (raw or {}).items():
            archive.writestr(f"{name}.csv", data)
    return buffer.getvalue()


def two_schools() -> dict[str, list[dict[str, str]]]:
    """2 schools, 4 classes, 4 teachers, 20 students, 3 guardians, 1 administrator."""
    orgs = [{"sourcedId": "dist", "name": "River District", "type": "district"},
            {"sourcedId": "north", "name": "North Middle", "type": "school", "parentSourcedId": "dist"},
            {"sourcedId": "south", "name": "South Middle", "type": "school", "parentSourcedId": "dist"}]
    sessions = [{"sourcedId": "y26", "title": "2026-27", "type": "schoolYear", "startDate": "2026-08-24",
                 "endDate": "2027-06-18", "schoolYear": "2027"},
                {"sourcedId": "fall", "title": "Fall 2026", "type": "term", "startDate": "2026-08-24",
                 "endDate": "2026-12-18", "parentSourcedId": "y26", "schoolYear": "2027"},
                {"sourcedId": "q1", "title": "Quarter 1", "type": "gradingPeriod", "startDate": "2026-08-24",
                 "endDate": "2026-10-23", "parentSourcedId": "fall", "schoolYear": "2027"}]
    courses = [{"sourcedId": "c-sci", "title": "Science 7", "orgSourcedId": "north", "subjects": "Science"},
               {"sourcedId": "c-math", "title": "Math 7", "orgSourcedId": "south", "subjects": "Mathematics"}]
    classes = [
        {"sourcedId": "cl1", "title": "Science 7A", "courseSourcedId": "c-sci", "classCode": "SCI7A",
         "classType": "scheduled", "schoolSourcedId": "north", "termSourcedIds": "fall"},
        {"sourcedId": "cl2", "title": "Science 7B", "courseSourcedId": "c-sci", "classCode": "SCI7B",
         "classType": "scheduled", "schoolSourcedId": "north", "termSourcedIds": "q1"},  # a grading period
        {"sourcedId": "cl3", "title": "Math 7A", "courseSourcedId": "c-math", "classCode": "MA7A",
         "classType": "scheduled", "schoolSourcedId": "south", "termSourcedIds": "fall"},
        {"sourcedId": "cl4", "title": "Math 7B", "courseSourcedId": "c-math", "classCode": "MA7B",
         "classType": "scheduled", "schoolSourcedId": "south", "termSourcedIds": "fall", "subjects": "Algebra"},
    ]
    users = [{"sourcedId": "admin1", "enabledUser": "true", "orgSourcedIds": "dist", "role": "administrator",
              "username": "pat", "givenName": "Pat", "familyName": "Admin", "email": "pat@river.example"}]
    for n in range(1, 5):
        users.append({"sourcedId": f"t{n}", "enabledUser": "true", "orgSourcedIds": "north" if n < 3 else "south",
                      "role": "teacher", "username": f"teacher{n}", "givenName": f"Teacher{n}", "familyName": "Smith",
                      "email": f"teacher{n}@river.example"})
    for n in range(1, 21):
        users.append({"sourcedId": f"s{n:02d}", "enabledUser": "true", "orgSourcedIds": "north" if n <= 10 else "south",
                      "role": "student", "username": f"student{n}", "givenName": f"Student{n:02d}",
                      "familyName": "Jones", "email": f"student{n}@river.example", "grades": "07"})
    users += [
        {"sourcedId": "g1", "enabledUser": "true", "orgSourcedIds": "north", "role": "parent", "username": "g1",
         "givenName": "Alex", "familyName": "Jones", "email": "alex@home.example", "agentSourcedIds": "s01,s02"},
        {"sourcedId": "g2", "enabledUser": "true", "orgSourcedIds": "north", "role": "guardian", "username": "g2",
         "givenName": "Sam", "familyName": "Lee", "email": "sam@home.example", "agentSourcedIds": "s03"},
        {"sourcedId": "g3", "enabledUser": "true", "orgSourcedIds": "south", "role": "relative", "username": "g3",
         "givenName": "Kim", "familyName": "Park", "email": "kim@home.example", "agentSourcedIds": "s11"},
    ]
    enrollments = []
    for n, cls in enumerate(("cl1", "cl2", "cl3", "cl4"), start=1):
        school = "north" if n < 3 else "south"
        enrollments.append({"sourcedId": f"e-{cls}-t{n}", "classSourcedId": cls, "schoolSourcedId": school,
                            "userSourcedId": f"t{n}", "role": "teacher", "primary": "true"})
        for s in range(5 * (n - 1) + 1, 5 * n + 1):
            enrollments.append({"sourcedId": f"e-{cls}-s{s:02d}", "classSourcedId": cls, "schoolSourcedId": school,
                                "userSourcedId": f"s{s:02d}", "role": "student", "primary": "false"})
    return {"orgs": orgs, "academicSessions": sessions, "courses": courses, "classes": classes, "users": users,
            "enrollments": enrollments}


def _import(data: bytes, **rule: bool):  # type: ignore[no-untyped-def]
    report = import_oneroster(db.session, data, actor=None, **rule)
    db.session.commit()
    return report


@pytest.fixture
def outbox(app: Flask, tmp_path: Path):  # type: ignore[no-untyped-def]
    """The e-mails the import writes (no SMTP server set: one .eml file each)."""
    before = app.config["MAIL_OUTBOX"]
    app.config["MAIL_OUTBOX"] = str(tmp_path / "outbox")
    yield tmp_path / "outbox"
    app.config["MAIL_OUTBOX"] = before


def _mails(outbox: Path) -> list[Any]:
    import email
    from email import policy

    return [email.message_from_bytes(f.read_bytes(), policy=policy.default)
            for f in sorted(outbox.glob("*.eml"))] if outbox.exists() else []


def _user(sid: str) -> User:
    return db.session.scalars(select(User).where(User.sourced_id == sid)).one()


def _class_roster(sid: str, active: bool = True) -> list[str]:
    return sorted(db.session.scalars(
        select(User.sourced_id).join(Enrollment, Enrollment.student_id == User.id)
        .join(Section, Section.id == Enrollment.section_id)
        .where(Section.sourced_id == sid, Enrollment.active.is_(active))))


# ---------------------------------------------------------------- bulk, again, delta

def test_a_bulk_zip_of_two_schools_creates_everything_and_emails_set_password_links(app: Flask, outbox: Path) -> None:
    report = _import(roster_zip(two_schools()))

    assert dict(report.created) == {"schools": 2, "terms": 1, "sections": 4, "users": 28, "guardian_links": 4,
                                    "teachers": 4, "enrollments": 20}
    assert (sum(report.updated.values()), sum(report.deactivated.values()), report.rejected) == (0, 0, [])
    assert sorted(s.name for s in db.session.scalars(select(School))) == ["North Middle", "South Middle"]
    assert db.session.scalars(select(Term.name)).all() == ["Fall 2026"]
    sections = {s.sourced_id: s for s in db.session.scalars(select(Section))}
    assert (sections["cl2"].code, sections["cl2"].subject, sections["cl4"].subject) == ("SCI7B", "Science", "Algebra")
    assert {sections[c].term_id for c in sections} == {db.session.scalars(select(Term.id)).one()}
    assert _class_roster("cl1") == ["s01", "s02", "s03", "s04", "s05"]
    assert db.session.get(SectionTeacher, (sections["cl3"].id, _user("t3").id)) is not None
    assert (_user("admin1").role, _user("g3").role, _user("s01").grade_level) == ("admin", "guardian", "07")
    links = {(g.guardian_id, g.student_id, g.relationship_label) for g in db.session.scalars(select(GuardianLink))}
    assert links == {(_user("g1").id, _user("s01").id, "parent"), (_user("g1").id, _user("s02").id, "parent"),
                     (_user("g2").id, _user("s03").id, "guardian"), (_user("g3").id, _user("s11").id, "relative")}
    assert all(u.password_hash is None for u in db.session.scalars(select(User)))
    mails = _mails(outbox)
    assert (report.emailed, len(mails), report.in_person) == (28, 28, [])
    assert "28 new account(s) got a set-password link by e-mail (written to" in report.summary
    mail = next(m for m in mails if "student1@river.example" in m["To"])
    link = next(w for w in mail.get_body(("plain",)).get_content().split() if "/set-password/" in w)
    assert link.startswith("http://127.0.0.1:5000/set-password/")
    assert user_for_token(db.session, link.rsplit("/", 1)[1]).sourced_id == "s01"


def test_importing_the_same_zip_again_changes_nothing(app: Flask) -> None:
    data = roster_zip(two_schools())
    _import(data)
    before = table_rows()

    again = _import(data)

    assert not again.changed and again.summary.startswith("No change")
    assert again.unchanged["users"] == 28 and again.unchanged["enrollments"] == 20 and again.emailed == 0
    assert table_rows() == before


def test_a_delta_moves_one_student_and_deactivates_another_and_rejects_an_unknown_role(app: Flask) -> None:
    _import(roster_zip(two_schools()))
    users = [
        {"sourcedId": "s20", "status": "tobedeleted", "dateLastModified": "2026-10-01T00:00:00Z", "enabledUser": "true",
         "orgSourcedIds": "south", "role": "student", "username": "student20", "givenName": "Student20",
         "familyName": "Jones", "email": "student20@river.example"},
        {"sourcedId": "a1", "status": "active", "dateLastModified": "2026-10-01T00:00:00Z", "enabledUser": "true",
         "orgSourcedIds": "north", "role": "aide", "username": "aide1", "givenName": "Ada", "familyName": "Aide",
         "email": "ada@river.example"},
    ]
    enrollments = [
        {"sourcedId": "e-cl1-s05", "status": "tobedeleted", "dateLastModified": "2026-10-01T00:00:00Z",
         "classSourcedId": "cl1", "schoolSourcedId": "north", "userSourcedId": "s05", "role": "student"},
        {"sourcedId": "e-cl2-s05", "status": "active", "dateLastModified": "2026-10-01T00:00:00Z",
         "classSourcedId": "cl2", "schoolSourcedId": "north", "userSourcedId": "s05", "role": "student"},
    ]

    report = _import(roster_zip({"users": users, "enrollments": enrollments}, mode="delta"), skip_rejected=True)

    assert (dict(report.created), dict(report.updated), dict(report.deactivated)) == (
        {"enrollments": 1}, {}, {"users": 1, "enrollments": 1})
    assert [str(r) for r in report.rejected] == [
        "users.csv row 3: unknown role “aide” for user a1; the roles imported are teacher, student, parent, guardian, "
        "relative and administrator."]
    assert _class_roster("cl1") == ["s01", "s02", "s03", "s04"]
    assert _class_roster("cl1", active=False) == ["s05"]
    assert _class_roster("cl2") == ["s05", "s06", "s07", "s08", "s09", "s10"]
    assert _user("s20").active is False
    assert db.session.scalars(select(User).where(User.sourced_id == "a1")).first() is None
    assert report.emailed == 0


def test_an_enrollment_that_changes_class_ends_the_old_one_and_keeps_its_history(app: Flask) -> None:
    _import(roster_zip(two_schools()))
    moved = [{"sourcedId": "e-cl3-s12", "status": "active", "classSourcedId": "cl4", "schoolSourcedId": "south",
              "userSourcedId": "s12", "role": "student"}]

    report = _import(roster_zip({"enrollments": moved}, mode="delta"))

    assert dict(report.updated) == {"enrollments": 1}
    assert "s12" in _class_roster("cl3", active=False) and "s12" in _class_roster("cl4")


def test_a_bulk_file_is_the_whole_set_so_records_it_leaves_out_are_deactivated(app: Flask) -> None:
    tables = two_schools()
    _import(roster_zip(tables))
    tables["users"] = [u for u in tables["users"] if u["sourcedId"] != "s19"]
    tables["enrollments"] = [e for e in tables["enrollments"] if e["userSourcedId"] != "s19"]

    report = _import(roster_zip(tables))

    assert dict(report.deactivated) == {"users": 1, "enrollments": 1}
    assert _user("s19").active is False and "s19" in _class_roster("cl4", active=False)


def test_a_user_no_longer_enabled_is_deactivated_and_can_be_enabled_again(app: Flask) -> None:
    tables = two_schools()
    _import(roster_zip(tables))
    student = next(u for u in tables["users"] if u["sourcedId"] == "s18")

    disabled = _import(roster_zip({"users": [dict(student, enabledUser="false")]}, mode="delta"))
    enabled = _import(roster_zip({"users": [dict(student, enabledUser="true")]}, mode="delta"))

    assert (dict(disabled.deactivated), dict(enabled.updated)) == ({"users": 1}, {"users": 1})
    assert _user("s18").active


def test_a_teacher_enrollment_marked_tobedeleted_ends_the_teaching_assignment(app: Flask) -> None:
    _import(roster_zip(two_schools()))
    ended = [{"sourcedId": "e-cl1-t1", "status": "tobedeleted", "classSourcedId": "cl1", "schoolSourcedId": "north",
              "userSourcedId": "t1", "role": "teacher"}]

    report = _import(roster_zip({"enrollments": ended}, mode="delta"))

    section = db.session.scalars(select(Section).where(Section.sourced_id == "cl1")).one()
    assert dict(report.deactivated) == {"teachers": 1}
    assert db.session.get(SectionTeacher, (section.id, _user("t1").id)) is None
    assert _user("t1").active


def test_a_tobedeleted_class_is_deactivated_not_deleted(app: Flask) -> None:
    _import(roster_zip(two_schools()))
    gone = [{"sourcedId": "cl4", "status": "tobedeleted", "title": "Math 7B", "courseSourcedId": "c-math",
             "classType": "scheduled", "schoolSourcedId": "south", "termSourcedIds": "fall"}]

    report = _import(roster_zip({"classes": gone}, mode="delta"))

    assert dict(report.deactivated) == {"sections": 1}
    assert db.session.scalars(select(Section.active).where(Section.sourced_id == "cl4")).one() is False
    assert len(_class_roster("cl4")) == 5


def test_rows_that_cannot_be_imported_are_rejected_with_file_and_row(app: Flask) -> None:
    tables = two_schools()
    tables["users"][5]["email"] = ""  # s01, on row 7
    tables["users"].append({"sourcedId": "dup", "enabledUser": "true", "role": "teacher", "givenName": "Dup",
                            "familyName": "Licate", "email": "teacher1@river.example"})
    tables["enrollments"].append({"sourcedId": "e-x", "classSourcedId": "cl9", "schoolSourcedId": "north",
                                  "userSourcedId": "s02", "role": "student"})
    tables["enrollments"].append({"sourcedId": "e-y", "classSourcedId": "cl1", "schoolSourcedId": "north",
                                  "userSourcedId": "s02", "role": "proctor"})

    tables["users"][5]["username"] = ""
    before = table_rows()

    blocked = _import(roster_zip(tables))
    assert blocked.outcome == "blocked" and len(blocked.rejected) == 6 and table_rows() == before
    assert blocked.summary.startswith("Nothing was imported: the file has 6 rejected rows")

    report = _import(roster_zip(tables), skip_rejected=True)

    assert report.outcome == "imported"
    assert [str(r) for r in report.rejected] == [
        "users.csv row 7: user s01 has no e-mail address and no username, so the account could not sign in.",
        "users.csv row 27: agentSourcedIds names s01, who was rejected above; no student link was made for g1.",
        "users.csv row 30: the email teacher1@river.example is already used by user t1.",
        "enrollments.csv row 3: userSourcedId s01 was rejected (users.csv row 7).",
        "enrollments.csv row 26: classSourcedId cl9 is not a class in classes.csv or an earlier import.",
        "enrollments.csv row 27: enrollment role “proctor” is not imported (student or teacher).",
    ]
    assert (report.created["users"], report.created["enrollments"], report.created["guardian_links"]) == (27, 19, 3)


def test_a_bom_in_the_csv_files_is_accepted(app: Flask) -> None:
    tables = two_schools()
    raw = {"users": b"\xef\xbb\xbf" + csv_bytes(COLUMNS["users"], tables.pop("users"))}

    report = _import(roster_zip(tables, raw=raw))

    assert report.created["users"] == 28 and report.rejected == []


def test_an_account_made_by_hand_is_linked_by_email_not_duplicated(app: Flask) -> None:
    from gradebook.services.accounts import create_user

    existing = create_user(db.session, email="Teacher1@River.example", name="T. Smith", role="teacher", password=None)
    db.session.commit()

    report = _import(roster_zip(two_schools()))

    assert report.created["users"] == 27 and report.updated["users"] == 1
    assert _user("t1").id == existing.id


# ---------------------------------------------------------------- malformed zips change nothing

def _zip_with(name: str, data: bytes, mode: str = "delta") -> bytes:
    return roster_zip({}, mode=mode, raw={name: data})


def _users_without(column: str) -> bytes:
    header = [c for c in COLUMNS["users"].split(",") if c != column]
    return _zip_with("users", csv_bytes(header, two_schools()["users"][:2]))


def _duplicate_sourced_id() -> bytes:
    users = two_schools()["users"][:3]
    users.append(dict(users[1], email="other@river.example"))
    return _zip_with("users", csv_bytes(COLUMNS["users"], users))


def _only_unknown_role() -> bytes:
    return _zip_with("users", csv_bytes(COLUMNS["users"], [
        {"sourcedId": "x1", "role": "janitor", "enabledUser": "true", "givenName": "Jo", "familyName": "Doe",
         "email": "jo@river.example"}]))


def _only_unknown_enrollment_role() -> bytes:
    return _zip_with("enrollments", csv_bytes(COLUMNS["enrollments"], [
        {"sourcedId": "e-new", "classSourcedId": "cl1", "schoolSourcedId": "north", "userSourcedId": "s01",
         "role": "aide"}]))


def _truncated() -> bytes:
    data = roster_zip(two_schools())
    return data[: len(data) // 2]


def _corrupt_member() -> bytes:
    data = bytearray(roster_zip(two_schools()))
    start = data.find(b"users.csv") + 40  # inside the compressed bytes of users.csv
    data[start:start + 30] = b"\x00" * 30
    return bytes(data)


MALFORMED_ROSTER: list[tuple[str, Callable[[], bytes], str]] = [
    ("not a zip", lambda: b"This is not a zip file at all.", "the file is not a zip archive"),
    ("CSV instead of a zip", lambda: csv_bytes(COLUMNS["users"], two_schools()["users"]), "not a zip archive"),
    ("truncated zip", _truncated, "the zip file is damaged or incomplete"),
    ("corrupt member", _corrupt_member, "users.csv in the zip is damaged"),
    ("empty file", lambda: b"", "the file is empty"),
    ("zip without manifest", lambda: roster_zip(two_schools(), skip_manifest=True), "the zip has no manifest.csv"),
    ("OneRoster 1.0", lambda: roster_zip(two_schools(), manifest={"oneroster.version": "1.0"}),
     "this is OneRoster 1.0; this import reads OneRoster 1.1 and 1.2 CSV"),
    ("manifest lists a missing file", lambda: roster_zip({"users": two_schools()["users"]},
                                                          manifest={"file.enrollments": "delta"}),
     "manifest.csv lists enrollments.csv as delta, but the zip has no enrollments.csv"),
    ("bad manifest mode", lambda: roster_zip(two_schools(), manifest={"file.users": "full"}),
     "file.users is “full”; it must be bulk, delta or absent"),
    ("missing role column", lambda: _users_without("role"), "users.csv is missing the column role"),
    ("missing username column", lambda: _users_without("username"), "users.csv is missing the column username"),
    ("duplicated sourcedId", _duplicate_sourced_id,
     "users.csv row 5: the sourcedId t1 is on rows 3 and 5 with different values; each record needs its own "
     "sourcedId, so neither was imported."),
    ("latin-1 users.csv", lambda: _zip_with("users", csv_bytes(COLUMNS["users"], [
        {"sourcedId": "x", "role": "student", "givenName": "Zoë", "familyName": "Ruiz", "email": "z@r.example"}])
        .decode().encode("latin-1")), "users.csv is not UTF-8 text (an invalid byte on line 2)"),
    ("empty users.csv", lambda: _zip_with("users", b""), "users.csv is empty"),
    ("unknown role", _only_unknown_role, "users.csv row 2: unknown role “janitor” for user x1"),
    ("unknown enrollment role", _only_unknown_enrollment_role,
     "enrollments.csv row 2: enrollment role “aide” is not imported"),
    ("200 MB file", lambda: b"x" * (200 * 1024 * 1024), "The file is 200.0 MB; the limit for a OneRoster zip is 100 MB"),
]


@pytest.mark.parametrize(("data", "message"), [pytest.param(make, message, id=name)
                                                for name, make, message in MALFORMED_ROSTER])
def test_a_malformed_roster_gets_a_clear_message_and_changes_nothing(app: Flask, data: Callable[[], bytes],
                                                                     message: str) -> None:
    _import(roster_zip(two_schools()))
    before = table_rows()

    try:
        report: Any = import_oneroster(db.session, data(), actor=None)
        said = " ".join(str(r) for r in report.rejected)
    except ServiceError as error:
        said = error.message
    db.session.commit()

    assert message in said
    assert table_rows() == before


# ---------------------------------------------------------------- the command

def test_import_oneroster_command_prints_the_report_and_emails_the_links(app: Flask, tmp_path: Path,
                                                                        outbox: Path) -> None:
    file = tmp_path / "roster.zip"
    file.write_bytes(roster_zip(two_schools()))
    group = click.Group("imports")
    register(group)

    result = app.test_cli_runner().invoke(group, ["import-oneroster", str(file), "--base-url", "https://gb.example/"])

    assert result.exit_code == 0, result.output
    assert "Created 2 schools, 1 term, 4 sections, 28 users, 4 guardian links, 20 enrollments, 4 teacher assignments" in result.output
    assert "/set-password/" not in result.output and "28 new account(s) got a set-password link by e-mail" in result.output
    assert all("https://gb.example/set-password/" in m.get_body(("plain",)).get_content() for m in _mails(outbox))
    assert db.session.scalars(select(User).where(User.sourced_id == "s01")).one().active


def test_import_oneroster_command_refuses_a_truncated_zip(app: Flask, tmp_path: Path) -> None:
    file = tmp_path / "roster.zip"
    file.write_bytes(_truncated())
    group = click.Group("imports")
    register(group)
    before = table_rows()

    result = app.test_cli_runner().invoke(group, ["import-oneroster", str(file)])

    assert result.exit_code == 1 and "damaged or incomplete" in result.output
    assert table_rows() == before


# ---------------------------------------------------------------- issue 15: OneRoster 1.2, real sets, the import rule

ROSTERS = Path(__file__).resolve().parents[1] / "data" / "oneroster"  # copied unchanged from ../shared/testdata
V12_USERS = ("sourcedId,status,dateLastModified,enabledUser,username,userIds,givenName,familyName,middleName,"
             "identifier,email,sms,phone,agentSourcedIds,grades,password,userMasterIdentifier,resourceSourcedIds,"
             "preferredGivenName,preferredMiddleName,preferredFamilyName,primaryOrgSourcedId,pronouns")
V12_ROLES = "sourcedId,status,dateLastModified,userSourcedId,roleType,role,orgSourcedId,userProfileSourcedId,beginDate,endDate"


def v12_zip(tables: dict[str, list[dict[str, str]]], roles: list[dict[str, str]]) -> bytes:
    """A OneRoster 1.2 zip: users.csv without role and orgSourcedIds, roles.csv beside it."""
    users = [{**u, "primaryOrgSourcedId": u.get("orgSourcedIds", "")} for u in tables.pop("users")]
    raw = {"users": csv_bytes(V12_USERS, users), "roles": csv_bytes(V12_ROLES, roles)}
    return roster_zip(tables, raw=raw, manifest={"oneroster.version": "1.2", "file.users": "bulk",
                                                 "file.roles": "bulk"})


def _roles_of(users: list[dict[str, str]]) -> list[dict[str, str]]:
    return [{"sourcedId": f"r-{u['sourcedId']}", "userSourcedId": u["sourcedId"], "roleType": "primary",
             "role": {"administrator": "siteAdministrator"}.get(u["role"], u["role"]),
             "orgSourcedId": u["orgSourcedIds"]} for u in users]


def test_a_oneroster_12_zip_with_roles_csv_imports_like_its_11_twin(app: Flask) -> None:
    tables = two_schools()
    roles = _roles_of(tables["users"])
    roles.append({"sourcedId": "r-t1-guardian", "userSourcedId": "t1", "roleType": "secondary", "role": "parent",
                  "orgSourcedId": "north"})

    report = _import(v12_zip(tables, roles))

    assert (report.version, report.outcome, report.rejected) == ("1.2", "imported", [])
    assert report.summary.startswith("Created 2 schools, 1 term, 4 sections, 28 users, 4 guardian links, "
                                     "20 enrollments, 4 teacher assignments")
    assert (_user("admin1").role, _user("t1").role, _user("g1").role) == ("admin", "teacher", "guardian")
    assert any("t1 also holds the role parent" in w for w in report.warnings)


def test_the_catalyst_12_set_imports_after_a_dry_run_and_skip_rejected(app: Flask) -> None:
    data = (ROSTERS / "catalyst-v1p2-full.zip").read_bytes()
    before = table_rows()

    dry = _import(data, dry_run=True)
    blocked = _import(data)
    assert (dry.outcome, blocked.outcome, table_rows() == before) == ("dry_run", "blocked", True)
    assert dry.summary.startswith("Dry run, nothing changed yet: this file has 4 rejected rows")

    report = _import(data, skip_rejected=True)

    assert (report.version, report.outcome) == ("1.2", "imported")
    assert (dict(report.created), dict(report.deactivated)) == (
        {"schools": 1, "terms": 2, "sections": 1, "users": 5, "enrollments": 2, "teachers": 1}, {})
    assert [str(r) for r in report.rejected] == [
        "users.csv row 3: agentSourcedIds names usr-222-123456, who is a teacher account (a guardian only as a "
        "secondary role, which an account cannot also hold here); no guardian link was made for usr-222-66778899.",
        "users.csv row 4: user usr-222-1234561 has no primary role in roles.csv (only siteAdministrator as "
        "secondary), so no account was made.",
        "users.csv row 6: agentSourcedIds names usr-222-123456, who is a teacher account (a guardian only as a "
        "secondary role, which an account cannot also hold here); no guardian link was made for usr-222-1234561232.",
        "users.csv row 7: agentSourcedIds names usr-222-987654, who is a teacher; no guardian link was made for "
        "usr-222-567891.",
    ]
    assert report.emailed == 5 and dry.emailed == 0 and dry.emails_due == 5
    # The teacher Jim Smith takes Introduction to Physics as a student; John Doe teaches it.
    assert (_user("usr-222-987654").role, _class_roster("cls-222-123456")) == (
        "teacher", ["usr-222-1234561232", "usr-222-987654"])
    physics = db.session.scalars(select(Section).where(Section.sourced_id == "cls-222-123456")).one()
    assert [t.teacher_id for t in db.session.scalars(select(SectionTeacher).where(
        SectionTeacher.section_id == physics.id))] == [_user("usr-222-123456").id]
    notes = " ".join(report.warnings)
    assert "gives no mode for file.userProfiles" in notes and "is a department with no school above it" in notes
    assert "status “inactive” (OneRoster 1.0) was read as tobedeleted" in notes
    assert _import(data, skip_rejected=True).changed is False


def test_the_catalyst_11_set_imports_with_its_counts(app: Flask) -> None:
    report = _import((ROSTERS / "catalyst-v1p1-full.zip").read_bytes(), skip_rejected=True)

    assert (report.version, report.outcome, len(report.rejected)) == ("1.1", "imported", 3)
    assert dict(report.created) == {"schools": 1, "terms": 2, "sections": 1, "users": 6, "guardian_links": 1,
                                    "enrollments": 2, "teachers": 1}
    guardian = _user("usr-222-1234561")
    link = db.session.scalars(select(GuardianLink).where(GuardianLink.guardian_id == guardian.id)).one()
    assert (guardian.role, link.student_id, link.relationship_label) == ("guardian", _user("usr-222-66778899").id,
                                                                         "parent")
    assert _class_roster("cls-222-123456") == ["usr-222-1234561232", "usr-222-987654"]
    assert _user("usr-222-66778899").username == "mary.jones"


def test_a_roster_without_email_addresses_creates_the_accounts_and_says_so(app: Flask) -> None:
    from gradebook.services.accounts import find_user_for_login

    tables = two_schools()
    for user in tables["users"]:
        user["email"] = ""
    tables["users"][1]["username"] = ""
    tables["users"][1]["identifier"] = "T-0001"  # no username: the SIS identifier signs in instead

    report = _import(roster_zip(tables))

    assert (report.created["users"], report.rejected) == (28, [])
    assert len(report.without_email) == 28 and len(report.in_person) == 28 and report.emailed == 0
    assert "teacher2" in {person.username for person in report.in_person}
    assert (_user("s01").email, _user("s01").username, _user("t1").username) == (None, "student1", "t-0001")
    assert find_user_for_login(db.session, " Student1 ") is _user("s01")
    assert find_user_for_login(db.session, "T-0001") is _user("t1")


def test_a_header_only_file_missing_a_column_is_a_note_not_a_refusal(app: Flask) -> None:
    tables = two_schools()
    del tables["academicSessions"]
    header_only = b"sourcedId,status,title,type,startDate,endDate\r\n"  # no schoolYear column, no rows
    for row in tables["classes"]:
        row["termSourcedIds"] = "fall"
    _import(roster_zip(two_schools()))

    report = _import(roster_zip(tables, raw={"academicSessions": header_only}, mode="delta"))

    assert report.outcome == "imported" and report.rejected == []
    assert any("academicSessions.csv has only a header, and it lacks the column schoolYear" in w
               for w in report.warnings)


def test_unknown_values_are_rejections_never_silent(app: Flask) -> None:
    tables = two_schools()
    tables["academicSessions"].append({"sourcedId": "odd", "status": "archived", "title": "Odd", "type": "term",
                                       "startDate": "2026-08-24", "endDate": "2026-12-18", "schoolYear": "2027"})
    tables["orgs"].append({"sourcedId": "moon", "name": "Moon Base", "type": "campus"})
    tables["classes"][3]["classType"] = "lab"

    report = _import(roster_zip(tables))

    assert report.outcome == "blocked"
    assert [str(r) for r in report.rejected][:3] == [
        "orgs.csv row 5: unknown org type “campus” (school, district, department, local, state or national).",
        "academicSessions.csv row 5: unknown status “archived” (use active or tobedeleted).",
        "classes.csv row 5: unknown classType “lab” (homeroom or scheduled).",
    ]


def test_import_oneroster_command_dry_run_and_skip_rejected(app: Flask, tmp_path: Path) -> None:
    file = tmp_path / "roster.zip"
    file.write_bytes((ROSTERS / "catalyst-v1p1-full.zip").read_bytes())
    group = click.Group("imports")
    register(group)
    runner = app.test_cli_runner()
    before = table_rows()

    dry = runner.invoke(group, ["import-oneroster", str(file), "--dry-run"])
    blocked = runner.invoke(group, ["import-oneroster", str(file)])
    assert (dry.exit_code, blocked.exit_code, table_rows() == before) == (0, 1, True)
    assert "Dry run, nothing changed yet" in dry.output and "rejected: users.csv row 3" in dry.output
    assert "--skip-rejected" in blocked.output

    done = runner.invoke(group, ["import-oneroster", str(file), "--skip-rejected"])

    assert done.exit_code == 0, done.output
    assert "Imported the valid rows; the 3 rejected rows" in done.output and "/set-password/" not in done.output
    assert "got a set-password link by e-mail" in done.output


def test_a_name_with_a_control_character_imports_nothing_and_says_which_field(app: Flask) -> None:
    tables = two_schools()
    tables["users"][5]["givenName"] = "Ma\x00ya"

    with pytest.raises(ServiceError, match="The name contains a NUL character"):
        _import(roster_zip(tables))
    db.session.rollback()
    assert db.session.scalars(select(User)).all() == []


def test_the_language_an_sis_gives_is_the_accounts_language(app: Flask) -> None:
    tables = two_schools()
    tables["users"][-3]["metadata.preferredLanguage"] = "es-MX"  # g1
    tables["users"][-2]["metadata.preferredLanguage"] = "tlh"  # g2: a language the pages are not in
    header = COLUMNS["users"] + ",metadata.preferredLanguage"
    data = roster_zip({k: v for k, v in tables.items() if k != "users"},
                      raw={"users": csv_bytes(header, tables["users"])},
                      manifest={"file.users": "bulk"})
    _import(data)
    languages = {u.sourced_id: u.language for u in db.session.scalars(select(User))}
    assert (languages["g1"], languages["g2"], languages["s01"]) == ("es", None, None)
    # A later file without the column leaves the language alone.
    _import(roster_zip(two_schools()))
    assert db.session.scalar(select(User.language).where(User.sourced_id == "g1")) == "es"
