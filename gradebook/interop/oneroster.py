"""OneRoster 1.1 and 1.2 CSV import: schools, terms, sections, people, guardian links and enrollments from
a SIS zip. The manifest's `oneroster.version` says which version the zip is.

Rules:
- Everything is matched by `sourcedId`, so importing the same zip twice changes nothing.
- The manifest says, per file, `bulk` (the file is the whole set: imported records it leaves out are
  deactivated), `delta` (only changes) or `absent` (not read; an empty value is read as absent, with a note).
- `status=tobedeleted` deactivates (user, section, enrollment, term), never deletes (`inactive`, OneRoster
  1.0's word, is read as tobedeleted with a note). A teacher's assignment to a class has no active flag of
  its own, so ending it removes the assignment row; evidence stays. Any other status is a rejection.
- Roles. 1.1: the user's `role`. 1.2: `roles.csv` (primary first, then secondary roles, per org); a secondary
  role the account cannot also hold is noted. teacher → teacher, student → student,
  parent/guardian/relative → guardian (linked to the students named in the guardian's `agentSourcedIds`,
  or to the student whose `agentSourcedIds` names the guardian), administrator (1.2: district, site and
  system administrators) → admin. A user with no role imported here is rejected with the reason.
- Enrollments carry the role per class: a teacher account may be enrolled as a student in one class.
- E-mail is optional: an account without one signs in with its `username` (or the SIS `identifier`);
  the report lists such accounts.
- A class whose school is a department uses the school above it (or, when orgs.csv has none, the
  department itself, with a note).
- The import rule (gradebook/interop/rule.py): a dry run reports what would change; a zip with a rejected
  row imports nothing unless skipping the rejected rows is chosen. Two different rows with one sourcedId
  are both rejected (an exact repeat is read once, with a note). A file that cannot be read (not a zip, no
  manifest, a missing column, too big …) imports nothing and says why; a header-only file missing a column
  is only a note.
- New accounts have no password. Each one with an e-mail address is sent a one-time set-password link by
  e-mail, in the person's language (services.mail: SMTP, or the outbox); the report says how many went, and
  never holds a link. An account without an address is listed: the admin makes its link on the person's page
  and gives it in person.
"""

from __future__ import annotations

import csv
import io
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gradebook.interop.case_import import check_size, decode_utf8
from gradebook.interop.rule import DRY_RUN, IMPORTED, Rejection, outcome_sentence, under_rule
from gradebook.models import (
    LANGUAGES,
    AuditEvent,
    Enrollment,
    GuardianLink,
    School,
    Section,
    SectionTeacher,
    Term,
    User,
)
from gradebook.services import ServiceError
from gradebook.services.accounts import EMAIL_RE, USERNAME_MAX, create_user
from gradebook.services.proficiency import default_scale_row

MAX_ROSTER_BYTES = 100 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 500 * 1024 * 1024

# Where an SIS puts a person's language: not a OneRoster field, so an extension column (a metadata.* one, or
# the name SIS exports use). A BCP 47 tag ("es", "es-MX"); a language we do not ship is left unset.
LANGUAGE_COLUMNS = ("preferredLanguage", "metadata.preferredLanguage", "metadata.language")

# Columns each file must have (the OneRoster required fields), and the optional ones read, per version.
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "orgs": ("sourcedId", "status", "name", "type"),
    "academicSessions": ("sourcedId", "status", "title", "type", "startDate", "endDate", "schoolYear"),
    "courses": ("sourcedId", "status", "title", "orgSourcedId"),
    "classes": ("sourcedId", "status", "title", "courseSourcedId", "classType", "schoolSourcedId",
                "termSourcedIds"),
    "users": ("sourcedId", "status", "enabledUser", "orgSourcedIds", "role", "username", "givenName",
              "familyName"),
    "enrollments": ("sourcedId", "status", "classSourcedId", "schoolSourcedId", "userSourcedId", "role"),
}
OPTIONAL_COLUMNS: dict[str, tuple[str, ...]] = {
    "orgs": ("dateLastModified", "identifier", "parentSourcedId"),
    "academicSessions": ("dateLastModified", "parentSourcedId"),
    "courses": ("dateLastModified", "schoolYearSourcedId", "courseCode", "grades", "subjects", "subjectCodes"),
    "classes": ("dateLastModified", "grades", "classCode", "location", "subjects", "subjectCodes", "periods"),
    "users": ("dateLastModified", "userIds", "middleName", "identifier", "email", "sms", "phone",
              "agentSourcedIds", "grades", "password", *LANGUAGE_COLUMNS),
    "enrollments": ("dateLastModified", "primary", "beginDate", "endDate"),
}
# OneRoster 1.2: users.csv loses role and orgSourcedIds (roles.csv holds them), gains preferred names, the
# primary org, pronouns …; roles.csv and userProfiles.csv are new.
REQUIRED_COLUMNS_V12: dict[str, tuple[str, ...]] = {
    **REQUIRED_COLUMNS,
    "users": ("sourcedId", "status", "enabledUser", "username", "givenName", "familyName"),
    "roles": ("sourcedId", "status", "userSourcedId", "roleType", "role", "orgSourcedId"),
    "userProfiles": ("sourcedId", "status", "userSourcedId", "profileType", "vendorId", "credentialType"),
}
OPTIONAL_COLUMNS_V12: dict[str, tuple[str, ...]] = {
    **OPTIONAL_COLUMNS,
    "classes": (*OPTIONAL_COLUMNS["classes"], "resources"),
    "courses": (*OPTIONAL_COLUMNS["courses"], "resources"),
    "users": ("dateLastModified", "userIds", "middleName", "identifier", "email", "sms", "phone",
              "agentSourcedIds", "grades", "password", "userMasterIdentifier", "resourceSourcedIds",
              "preferredGivenName", "preferredMiddleName", "preferredFamilyName", "primaryOrgSourcedId",
              "pronouns", "orgSourcedIds", "role", *LANGUAGE_COLUMNS),
    "roles": ("dateLastModified", "userProfileSourcedId", "beginDate", "endDate"),
    "userProfiles": ("dateLastModified", "applicationId", "description", "username", "password"),
}
Progress = Callable[[int, str], None]
FILE_ORDER = ("orgs", "academicSessions", "courses", "classes", "roles", "userProfiles", "users", "enrollments")
OTHER_FILES = ("demographics", "lineItems", "results", "categories", "resources", "classResources",
               "courseResources", "scoreScales", "lineItemScoreScales", "resultScoreScales",
               "lineItemLearningObjectiveIds", "resultLearningObjectiveIds", "userResources")
VERSION_FILES = {"1.1": ("orgs", "academicSessions", "courses", "classes", "users", "enrollments"),
                 "1.2": FILE_ORDER}
MODES = ("bulk", "delta", "absent")
ROLE_MAP = {"teacher": "teacher", "student": "student", "parent": "guardian", "guardian": "guardian",
            "relative": "guardian", "administrator": "admin", "districtadministrator": "admin",
            "siteadministrator": "admin", "systemadministrator": "admin"}
# Roles OneRoster knows that have no account kind here: a user holding only these is rejected with the reason.
ROLES_NOT_IMPORTED = ("aide", "counselor", "principal", "proctor")
ORG_TYPES = ("school", "district", "department", "local", "state", "national")
TERM_TYPES = ("term", "semester")
SESSION_TYPES = ("term", "semester", "gradingPeriod", "schoolYear")
KINDS = ("schools", "terms", "sections", "users", "guardian_links", "enrollments", "teachers")
NOUNS = {"schools": ("school", "schools"), "terms": ("term", "terms"), "sections": ("section", "sections"),
         "users": ("user", "users"), "guardian_links": ("guardian link", "guardian links"),
         "enrollments": ("enrollment", "enrollments"), "teachers": ("teacher assignment", "teacher assignments")}


# ---------------------------------------------------------------- report

@dataclass(frozen=True)
class InPerson:
    """A new account without an e-mail address: it signs in with its username; the admin makes its
    set-password link on the person's page and hands it over."""

    user_id: int
    name: str
    role: str
    username: str = ""


@dataclass
class RosterReport:
    """Counts by kind (schools, terms, sections, users, guardian_links, enrollments, teachers)."""

    created: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    deactivated: Counter[str] = field(default_factory=Counter)
    unchanged: Counter[str] = field(default_factory=Counter)
    rejected: list[Rejection] = field(default_factory=list)
    emailed: int = 0  # set-password e-mails sent to the new accounts
    mail_where: str = ""  # where they went ("sent through host:port", "written to instance/outbox")
    in_person: list[InPerson] = field(default_factory=list)  # new accounts without e-mail: link made by hand
    without_email: list[str] = field(default_factory=list)  # new accounts that sign in with a username
    warnings: list[str] = field(default_factory=list)
    modes: dict[str, str] = field(default_factory=dict)
    version: str = "1.1"
    outcome: str = IMPORTED
    emails_due: int = 0  # set-password e-mails the import sends (a dry run shows the count)
    role_changes: list[str] = field(default_factory=list)  # "Ana Ruiz (u-7): district admin → school admin"

    @property
    def changed(self) -> bool:
        return bool(sum(self.created.values()) + sum(self.updated.values()) + sum(self.deactivated.values()))

    @property
    def summary(self) -> str:
        def part(counter: Counter[str]) -> str:
            items = [f"{counter[k]} {NOUNS[k][counter[k] != 1]}" for k in KINDS if counter[k]]
            return ", ".join(items) if items else "nothing"

        head = outcome_sentence(self.outcome, len(self.rejected))
        if not self.changed and not self.rejected:
            text = f"No change: the roster is already up to date ({part(self.unchanged)} unchanged)."
            return f"{head} {text}".strip() if self.outcome == DRY_RUN else text
        if self.outcome == IMPORTED:
            text = (f"Created {part(self.created)}; updated {part(self.updated)}; "
                    f"deactivated {part(self.deactivated)}.")
            if self.emailed:
                text += (f" {self.emailed} new account(s) got a set-password link by e-mail"
                         f"{f' ({self.mail_where})' if self.mail_where else ''}.")
        else:
            text = (f"Create {part(self.created)}; update {part(self.updated)}; "
                    f"deactivate {part(self.deactivated)}.")
            if self.emails_due:
                text += f" {self.emails_due} new account(s) would get a set-password link by e-mail."
        if self.without_email:
            text += (f" {len(self.without_email)} new account(s) have no e-mail address and sign in with their "
                     "username: make each one's set-password link on their page and give it in person.")
        return f"{head} {text}".strip()


# ---------------------------------------------------------------- reading the zip

@dataclass
class _File:
    name: str
    mode: str
    rows: list[dict[str, Any]]

    @property
    def filename(self) -> str:
        return f"{self.name}.csv"


def _fatal(message: str) -> ServiceError:
    return ServiceError(f"Nothing was imported: {message}")


def _open_zip(data: bytes) -> dict[str, bytes]:
    check_size(len(data), MAX_ROSTER_BYTES, "a OneRoster zip")
    if not data:
        raise _fatal("the file is empty. A OneRoster export is a .zip holding manifest.csv, orgs.csv, "
                     "academicSessions.csv, courses.csv, classes.csv, users.csv and enrollments.csv.")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        if data.startswith(b"PK"):
            raise _fatal("the zip file is damaged or incomplete (was the download cut short?). "
                         "Export it again.") from None
        raise _fatal("the file is not a zip archive. A OneRoster export is a .zip holding manifest.csv, "
                     "users.csv, classes.csv, enrollments.csv …") from None
    members: dict[str, zipfile.ZipInfo] = {}
    total = 0
    for info in archive.infolist():
        name = info.filename.replace("\\", "/")
        base = name.rsplit("/", 1)[-1]
        if info.is_dir() or name.startswith("__MACOSX/") or base.startswith(".") or not base.lower().endswith(".csv"):
            continue
        key = base[:-4].lower()
        if key in members:
            raise _fatal(f"the zip holds two files named {base}.")
        members[key] = info
        total += info.file_size
    if total > MAX_UNCOMPRESSED_BYTES:
        raise _fatal(f"the zip unpacks to {total / 1024 / 1024:.0f} MB; the limit is "
                     f"{MAX_UNCOMPRESSED_BYTES // 1024 // 1024} MB.")
    files: dict[str, bytes] = {}
    for key, info in members.items():
        try:
            files[key] = archive.read(info)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError, NotImplementedError,
                ValueError):
            raise _fatal(f"{info.filename} in the zip is damaged or encrypted (was the download cut short?). "
                         "Export it again.") from None
    return files


def _read_csv(raw: bytes, filename: str, required: tuple[str, ...], optional: tuple[str, ...], *,
              version: str = "1.1", warnings: list[str] | None = None) -> list[dict[str, Any]]:
    """Rows as dicts keyed by the canonical column names, each with its spreadsheet row number in `_row`.

    A file with only its header and a missing column holds nothing to import: a note, not a refusal.
    """
    try:
        text = decode_utf8(raw, filename)
    except ServiceError as error:
        raise _fatal(error.message.replace(" Nothing was imported.", "")) from None
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as error:
        raise _fatal(f"{filename} is not valid CSV ({error}).") from None
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise _fatal(f"{filename} is empty: it needs at least its header row ({', '.join(required)}).")
    canonical = {name.lower(): name for name in required + optional}
    header: list[str | None] = []
    for cell in rows[0]:
        name = canonical.get(cell.strip().lower())
        if name is not None and name in header:
            raise _fatal(f"{filename} has the column {name} twice.")
        header.append(name)
    missing = [name for name in required if name not in header]
    if missing:
        columns = f"the column{'s' if len(missing) > 1 else ''} {', '.join(missing)}"
        if warnings is not None and not any(any(cell.strip() for cell in row) for row in rows[1:]):
            warnings.append(f"{filename} has only a header, and it lacks {columns}; it holds nothing to import.")
            return []
        raise _fatal(f"{filename} is missing {columns} (OneRoster {version} headers).")
    records: list[dict[str, Any]] = []
    seen: dict[str, dict[str, Any]] = {}
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        record: dict[str, Any] = {name: "" for name in required + optional}
        for name, cell in zip(header, row, strict=False):
            if name is not None:
                record[name] = cell.strip()
        record["_row"] = number
        record["_overflow"] = len(row) > len(header)
        sourced_id = record["sourcedId"]
        if sourced_id:
            first = seen.get(sourced_id)
            if first is not None:
                same = {k: v for k, v in first.items() if k != "_row"} == {k: v for k, v in record.items() if k != "_row"}
                if same and warnings is not None:
                    warnings.append(f"{filename} row {number} repeats row {first['_row']} exactly; it was read once.")
                    continue
                # Two different records claim one sourcedId: neither can be trusted, so both are rejected.
                message = (f"the sourcedId {sourced_id} is on rows {first['_row']} and {number} with different "
                           "values; each record needs its own sourcedId, so neither was imported.")
                first["_reject"] = message
                record["_reject"] = message
            else:
                seen[sourced_id] = record
        records.append(record)
    return records


def parse_roster(data: bytes) -> tuple[dict[str, _File], list[str], str]:
    """Read and check the zip and every CSV in it, without touching the database.

    Returns the files read, notes, and the OneRoster version ("1.1" or "1.2").
    """
    files = _open_zip(data)
    if "manifest" not in files:
        raise _fatal("the zip has no manifest.csv, so it is not a OneRoster CSV export.")
    try:
        manifest_raw = list(csv.reader(io.StringIO(decode_utf8(files["manifest"], "manifest.csv"), newline="")))
    except (ServiceError, csv.Error):
        raise _fatal("manifest.csv cannot be read as UTF-8 CSV.") from None
    if not manifest_raw or [c.strip().lower() for c in manifest_raw[0][:2]] != ["propertyname", "value"]:
        raise _fatal("manifest.csv must start with the header propertyName,value.")
    manifest = {row[0].strip(): row[1].strip() for row in manifest_raw[1:] if len(row) >= 2 and row[0].strip()}
    raw_version = manifest.get("oneroster.version")
    if raw_version is None:
        raise _fatal("manifest.csv has no oneroster.version.")
    version = {"1.1": "1.1", "1.1.0": "1.1", "v1.1": "1.1", "v1p1": "1.1", "1.2": "1.2", "1.2.0": "1.2",
               "v1.2": "1.2", "v1p2": "1.2"}.get(raw_version.lower())
    if version is None:
        raise _fatal(f"this is OneRoster {raw_version}; this import reads OneRoster 1.1 and 1.2 CSV.")
    required = REQUIRED_COLUMNS if version == "1.1" else REQUIRED_COLUMNS_V12
    optional = OPTIONAL_COLUMNS if version == "1.1" else OPTIONAL_COLUMNS_V12
    read = VERSION_FILES[version]

    warnings: list[str] = []
    parsed: dict[str, _File] = {}
    for name in FILE_ORDER + OTHER_FILES:
        present = name.lower() in files
        raw_mode = manifest.get(f"file.{name}")
        mode = (raw_mode or "absent").strip().lower()
        if raw_mode is not None and not raw_mode.strip():
            mode = "absent"
            if present:
                warnings.append(f"manifest.csv gives no mode for file.{name} (bulk, delta or absent), so "
                                f"{name}.csv was read as absent: not imported.")
        if mode not in MODES:
            raise _fatal(f"manifest.csv says file.{name} is “{mode}”; it must be bulk, delta or absent.")
        if mode == "absent":
            if present and raw_mode is not None and raw_mode.strip():
                warnings.append(f"{name}.csv is in the zip but the manifest marks it absent; it was not read.")
            continue
        if not present:
            raise _fatal(f"manifest.csv lists {name}.csv as {mode}, but the zip has no {name}.csv.")
        if name in OTHER_FILES or name not in read:
            warnings.append(f"{name}.csv was not read (this import reads people, classes and enrollments).")
            continue
        rows = _read_csv(files[name.lower()], f"{name}.csv", required[name], optional[name], version=version,
                         warnings=warnings)
        parsed[name] = _File(name, mode, rows)
    if not parsed:
        raise _fatal("the manifest marks every file absent, so there is nothing to import.")
    return parsed, warnings, version


# ---------------------------------------------------------------- writing

def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _date(value: str) -> date | None:
    """A date like 2026-08-31 (a date-time's date part is read too: 2026-08-31T00:00:00Z)."""
    try:
        return date.fromisoformat(value[:10] if len(value) > 10 and value[10] in "T " else value)
    except ValueError:
        return None


class _Importer:
    def __init__(self, session: Session, files: dict[str, _File], actor: User | None, report: RosterReport,
                 version: str = "1.1", school_ids: list[int] | None = None):
        self.version = version
        # A school admin's roster: only these schools' rows are imported (None: a district admin's, every row).
        self.scope: frozenset[int] | None = frozenset(school_ids) if school_ids is not None else None
        self.in_scope: set[str] = set()  # users.csv sourcedIds of the school's people (a scoped import)
        self.session = session
        self.files = files
        self.actor = actor
        self.report = report
        self.schools = {s.sourced_id: s for s in session.scalars(select(School).where(School.sourced_id.is_not(None)))}
        self.terms = {t.sourced_id: t for t in session.scalars(select(Term).where(Term.sourced_id.is_not(None)))}
        self.sections = {s.sourced_id: s for s in session.scalars(select(Section).where(Section.sourced_id.is_not(None)))}
        users = session.scalars(select(User)).all()
        self.users = {u.sourced_id: u for u in users if u.sourced_id}
        self.users_by_email = {u.email.lower(): u for u in users if u.email}
        self.users_by_username = {u.username.lower(): u for u in users if u.username}
        self.other_orgs: dict[str, dict[str, Any]] = {}  # districts, departments …: sourcedId → row
        self.user_roles: dict[str, list[dict[str, Any]]] = {}  # 1.2 roles.csv rows by userSourcedId
        self.secondary_guardians: set[str] = set()
        self.gone_sessions: list[int] = []  # tobedeleted sessions never imported: rows, for one note
        self.deleted_classes: set[str] = set()
        self.in_deleted_class: list[int] = []
        self.enrollments = list(session.scalars(select(Enrollment)))
        self.enrollment_by_sid = {e.sourced_id: e for e in self.enrollments if e.sourced_id}
        self.enrollment_by_pair = {(e.section_id, e.student_id): e for e in self.enrollments}
        self.rejected_users: dict[str, int] = {}
        self.user_rows: dict[str, int] = {}
        self.sessions: dict[str, dict[str, Any]] = {}
        self.courses: dict[str, dict[str, Any]] = {}
        self.new_users: list[User] = []
        self.links_seen: set[tuple[int, int]] = set()
        from gradebook.models import SchoolMember

        self.members: dict[int, set[int]] = {}  # user id → their schools' ids
        for user_id, school_id in session.execute(select(SchoolMember.user_id, SchoolMember.school_id)):
            self.members.setdefault(user_id, set()).add(school_id)

    # -- helpers
    def reject(self, file: _File, record: dict[str, Any], message: str) -> None:
        self.report.rejected.append(Rejection(file.filename, record["_row"], message))

    def status(self, file: _File, record: dict[str, Any]) -> str | None:
        """'active', 'deleted', or None (rejected) for a row."""
        if record["_overflow"]:
            self.reject(file, record, "the row has more cells than the header has columns.")
            return None
        if not record["sourcedId"]:
            self.reject(file, record, "the row has no sourcedId.")
            return None
        if record.get("_reject"):
            self.reject(file, record, record["_reject"])
            return None
        value = record["status"].lower()
        if value in ("", "active"):
            return "active"
        if value == "tobedeleted":
            return "deleted"
        if value == "inactive":  # OneRoster 1.0's word for it
            self.report.warnings.append(f"{file.filename} row {record['_row']}: status “inactive” (OneRoster 1.0) "
                                        f"was read as tobedeleted for {record['sourcedId']}.")
            return "deleted"
        self.reject(file, record, f"unknown status “{record['status']}” (use active or tobedeleted).")
        return None

    def set(self, obj: Any, **values: Any) -> bool:
        changed = False
        for name, value in values.items():
            if getattr(obj, name) != value:
                setattr(obj, name, value)
                changed = True
        return changed

    def outside(self, school: School | None) -> bool:
        """A school admin's roster: is this school not theirs?"""
        return self.scope is not None and (school is None or school.id not in self.scope)

    def ours(self, school_id: int | None) -> bool:
        """Is this school's record the import's to change (always, for a district admin's roster)?"""
        return self.scope is None or school_id in self.scope

    def not_yours(self, what: str) -> str:
        return (f"{what}; your roster imports only your school's rows (a district admin imports the other "
                "schools').")

    def count(self, kind: str, created: bool, changed: bool) -> None:
        (self.report.created if created else self.report.updated if changed else self.report.unchanged)[kind] += 1

    # -- orgs
    def orgs(self, file: _File) -> None:
        template = self.session.scalar(select(School).order_by(School.id).limit(1))
        for record in file.rows:
            state = self.status(file, record)
            if state is None:
                continue
            if record["type"].lower() not in ORG_TYPES:
                self.reject(file, record, f"unknown org type “{record['type']}” (school, district, department, "
                                          "local, state or national).")
                continue
            if record["type"].lower() != "school":
                self.other_orgs[record["sourcedId"]] = record  # districts, departments …: no school of their own
                continue
            sid, name = record["sourcedId"], record["name"]
            school = self.schools.get(sid)
            if state == "deleted":
                if school is not None:
                    self.report.warnings.append(f"orgs.csv row {record['_row']}: school {sid} is marked "
                                                "tobedeleted; schools are kept (deactivate its classes instead).")
                continue
            if not name or len(name) > 200:
                self.reject(file, record, "the school needs a name of 1 to 200 characters.")
                continue
            if self.scope is not None:
                if school is None:
                    school = next((s for s in self.session.scalars(select(School).where(
                        School.sourced_id.is_(None), School.id.in_(self.scope))) if s.name.strip().lower()
                        == name.lower()), None)
                    if school is not None:  # the admin's own school, not yet linked to the SIS: link it
                        school.sourced_id = sid
                        self.schools[sid] = school
                        self.count("schools", False, True)
                        continue
                if self.outside(school):
                    self.reject(file, record, self.not_yours(f"the school “{name}” ({sid}) is not yours"))
                    continue
            if school is None:
                unlinked = [s for s in self.session.scalars(select(School).where(School.sourced_id.is_(None)))
                            if s.name.strip().lower() == name.lower()]
                if len(unlinked) == 1:
                    school = unlinked[0]
                    school.sourced_id = sid
                    self.schools[sid] = school
                    self.count("schools", False, True)
                    continue
                if template is None:
                    scale_id, policy = default_scale_row(self.session).id, {}
                else:
                    scale_id, policy = template.default_scale_id, dict(template.default_policy or {})
                school = School(name=name, sourced_id=sid, default_scale_id=scale_id, default_policy=policy)
                self.session.add(school)
                self.schools[sid] = school
                template = template or school
                self.count("schools", True, False)
            else:
                self.count("schools", False, self.set(school, name=name))
        self.session.flush()

    # -- academicSessions
    def academic_sessions(self, file: _File) -> None:
        for record in file.rows:
            state = self.status(file, record)
            if state is None:
                continue
            sid = record["sourcedId"]
            if state == "deleted":
                if sid not in self.terms:
                    self.gone_sessions.append(record["_row"])
                self.deactivate_term(sid)
                continue
            kind = record["type"]
            match = {t.lower(): t for t in SESSION_TYPES}.get(kind.lower())
            if match is None:
                self.reject(file, record, f"unknown session type “{kind}” (term, semester, gradingPeriod or "
                                          "schoolYear).")
                continue
            starts, ends = _date(record["startDate"]), _date(record["endDate"])
            if starts is None or ends is None:
                self.reject(file, record, "startDate and endDate must be dates like 2026-08-31.")
                continue
            if ends < starts:
                self.reject(file, record, f"the session ends ({ends}) before it starts ({starts}).")
                continue
            title = record["title"]
            if not title or len(title) > 120:
                self.reject(file, record, "the session needs a title of 1 to 120 characters.")
                continue
            self.sessions[sid] = {"type": match, "parent": record.get("parentSourcedId", ""), "title": title,
                                  "starts": starts, "ends": ends}
            if match in TERM_TYPES:
                if self.term_outside(sid, title, starts, ends):
                    self.reject(file, record, self.not_yours(
                        f"the term {sid} is {'the district’s' if self.terms[sid].school_id is None else 'another school’s'}"
                        " and this row would change it; your classes can still use it as it is"))
                    continue
                self.upsert_term(sid, title, starts, ends)

    def term_outside(self, sid: str, title: str, starts: date, ends: date) -> bool:
        """A school admin's roster would change a term not of their school (the district's, another school's)."""
        term = self.terms.get(sid)
        if self.scope is None or term is None or term.school_id in self.scope:
            return False
        return (term.name, term.starts_on, term.ends_on, term.active) != (title, starts, ends, True)

    def upsert_term(self, sid: str, title: str, starts: date, ends: date) -> Term:
        term = self.terms.get(sid)
        if term is not None and self.term_outside(sid, title, starts, ends):
            return term  # a school year above the class: used as it is
        if term is None:
            # A school admin's new term is their school's; a district admin's roster brings district-wide terms.
            school_id = min(self.scope) if self.scope else None
            term = Term(sourced_id=sid, name=title, starts_on=starts, ends_on=ends, active=True, school_id=school_id)
            self.session.add(term)
            self.terms[sid] = term
            self.count("terms", True, False)
        else:
            self.count("terms", False, self.set(term, name=title, starts_on=starts, ends_on=ends, active=True))
        return term

    def deactivate_term(self, sid: str) -> None:
        term = self.terms.get(sid)
        if term is not None and self.scope is not None and term.school_id not in self.scope:
            return  # not the school admin's to end
        if term is not None and term.active:
            term.active = False
            self.report.deactivated["terms"] += 1

    def term_for(self, sids: list[str]) -> Term | None:
        """The class's term: a term or semester, the term above a grading period, else its school year."""
        for sid in sids:
            if sid in self.terms:
                return self.terms[sid]
        for sid in sids:
            seen: set[str] = set()
            node = self.sessions.get(sid)
            while node is not None and node["parent"] and node["parent"] not in seen:
                seen.add(node["parent"])
                if node["parent"] in self.terms:
                    return self.terms[node["parent"]]
                node = self.sessions.get(node["parent"])
        for sid in sids:
            node = self.sessions.get(sid)
            if node is not None and node["type"] == "schoolYear":
                return self.upsert_term(sid, node["title"], node["starts"], node["ends"])
        return None

    # -- courses
    def read_courses(self, file: _File) -> None:
        for record in file.rows:
            if self.status(file, record) is not None:
                self.courses[record["sourcedId"]] = record

    # -- classes
    def classes(self, file: _File) -> None:
        for record in file.rows:
            state = self.status(file, record)
            if state is None:
                continue
            sid = record["sourcedId"]
            section = self.sections.get(sid)
            if state == "deleted":
                self.deleted_classes.add(sid)
                if section is not None and self.scope is not None and section.school_id not in self.scope:
                    self.reject(file, record, self.not_yours(f"the class {sid} is another school's"))
                    continue
                if section is not None and section.active:
                    section.active = False
                    self.report.deactivated["sections"] += 1
                continue
            title = record["title"]
            if not title or len(title) > 160:
                self.reject(file, record, "the class needs a title of 1 to 160 characters.")
                continue
            code = record.get("classCode") or None
            if code and len(code) > 60:
                self.reject(file, record, "the classCode is longer than 60 characters.")
                continue
            school_sid = record["schoolSourcedId"]
            class_type = record["classType"].lower()
            if class_type not in ("homeroom", "scheduled"):
                self.reject(file, record, f"unknown classType “{record['classType']}” (homeroom or scheduled).")
                continue
            school = self.school_for(school_sid)
            if school is None:
                self.reject(file, record, f"schoolSourcedId {school_sid or '(empty)'} is not a school in orgs.csv "
                                          "or in an earlier import.")
                continue
            if self.outside(school) or (section is not None and self.scope is not None
                                        and section.school_id not in self.scope):
                self.reject(file, record, self.not_yours(f"the class {sid} belongs to {school.name}, not your school"))
                continue
            term_sids = _split(record["termSourcedIds"])
            term = self.term_for(term_sids)
            if term is None:
                self.reject(file, record, f"termSourcedIds {record['termSourcedIds'] or '(empty)'} names no term in "
                                          "academicSessions.csv or in an earlier import.")
                continue
            course = self.courses.get(record["courseSourcedId"], {})
            subjects = _split(record.get("subjects", "")) or _split(course.get("subjects", ""))
            subject = subjects[0][:120] if subjects else None
            self.session.flush()
            values = {"name": title, "code": code, "school_id": school.id, "term_id": term.id, "active": True}
            if section is None:
                section = Section(sourced_id=sid, subject=subject, **values)
                self.session.add(section)
                self.sections[sid] = section
                self.count("sections", True, False)
            else:
                if subject is not None:
                    values["subject"] = subject
                self.count("sections", False, self.set(section, **values))
        self.session.flush()

    def school_for(self, sid: str) -> School | None:
        """The school of a class: the org itself, or, for a department, the school above it (else the
        department becomes the school, with a note)."""
        if sid in self.schools:
            return self.schools[sid]
        org = self.other_orgs.get(sid)
        if org is None or org["type"].lower() != "department":
            return None
        seen = {sid}
        parent = org.get("parentSourcedId", "")
        while parent and parent not in seen:
            if parent in self.schools:
                self.schools[sid] = self.schools[parent]
                return self.schools[parent]
            seen.add(parent)
            parent = self.other_orgs.get(parent, {}).get("parentSourcedId", "")
        if self.scope is not None:
            return None  # a school admin's roster makes no school
        name = org["name"][:200] or sid
        school = School(name=name, sourced_id=sid, default_scale_id=default_scale_row(self.session).id,
                        default_policy={})
        template = self.session.scalar(select(School).order_by(School.id).limit(1))
        if template is not None:
            school.default_scale_id, school.default_policy = template.default_scale_id, dict(template.default_policy or {})
        self.session.add(school)
        self.session.flush()
        self.schools[sid] = school
        self.count("schools", True, False)
        self.report.warnings.append(f"orgs.csv row {org['_row']}: {sid} (“{org['name']}”) is a department with no "
                                    "school above it in orgs.csv or an earlier import; its classes were put in a "
                                    "school of that name.")
        return school

    # -- roles (OneRoster 1.2): read before users, which take their role from here
    def roles_file(self, file: _File) -> None:
        known = {r.lower() for r in ROLE_MAP} | set(ROLES_NOT_IMPORTED)
        for record in file.rows:
            state = self.status(file, record)
            if state is None or state == "deleted":
                continue
            role, kind = record["role"].strip(), record["roleType"].strip().lower()
            if kind not in ("primary", "secondary"):
                self.reject(file, record, f"unknown roleType “{record['roleType']}” (primary or secondary).")
                continue
            if role.lower() not in known:
                self.reject(file, record, f"unknown role “{role}” for user {record['userSourcedId']}.")
                continue
            self.user_roles.setdefault(record["userSourcedId"], []).append(record)

    def user_profiles(self, file: _File) -> None:
        if file.rows:
            self.report.warnings.append(f"userProfiles.csv: {len(file.rows)} profile(s) (credentials for other "
                                        "applications) were read and not imported; accounts here sign in with "
                                        "their e-mail or username.")

    def role_of(self, file: _File, record: dict[str, Any], user: User | None) -> str | None:
        """The account's role, or None after a rejection."""
        sid = record["sourcedId"]
        if self.version == "1.1" or (not self.user_roles.get(sid) and record.get("role")):
            source_role = record["role"].strip()
            role = ROLE_MAP.get(source_role.lower())
            if role is None:
                self.reject(file, record, f"unknown role “{source_role}” for user {sid}; the roles imported are "
                                          "teacher, student, parent, guardian, relative and administrator.")
            return role
        rows = sorted(self.user_roles.get(sid, []), key=lambda r: r["roleType"].lower() != "primary")
        if not rows:
            if user is not None and "roles" not in self.files:
                return user.role  # a delta of users alone keeps the roles already imported
            self.reject(file, record, f"user {sid} has no role in roles.csv, so no account was made.")
            return None
        if rows[0]["roleType"].lower() != "primary":
            self.reject(file, record, f"user {sid} has no primary role in roles.csv (only "
                                      f"{', '.join(sorted({r['role'] for r in rows}))} as secondary), so no account "
                                      "was made.")
            return None
        mapped = [(r, ROLE_MAP.get(r["role"].strip().lower())) for r in rows]
        chosen = next(((r, m) for r, m in mapped if m is not None), None)
        if chosen is None:
            self.reject(file, record, f"user {sid} has only roles with no account here "
                                      f"({', '.join(sorted({r['role'] for r in rows}))}); the roles imported are "
                                      "teacher, student, parent, guardian, relative and the administrators.")
            return None
        role = chosen[1]
        others = sorted({r["role"] for r, m in mapped if m != role})
        if others:
            if any(ROLE_MAP.get(o.lower()) == "guardian" for o in others):
                self.secondary_guardians.add(sid)
            self.report.warnings.append(f"roles.csv: user {sid} also holds the role{'s' if len(others) > 1 else ''} "
                                        f"{', '.join(others)}; an account holds one role here, so it is a {role} "
                                        "(per-class roles come from enrollments.csv).")
        return role

    # -- users
    def orgs_of(self, record: dict[str, Any]) -> list[str]:
        return _split(record.get("orgSourcedIds", "")) + [r.get("orgSourcedId", "")
                                                          for r in self.user_roles.get(record["sourcedId"], [])]

    def find_in_scope(self, file: _File) -> None:
        """A school admin's roster: the people of their school (an org of theirs), and the guardians of its
        students (a guardian often belongs to no school org: one who names a student of the school, or whom
        such a student names)."""
        def ours(record: dict[str, Any]) -> bool:
            return any(org and (school := self.school_for(org)) is not None and not self.outside(school)
                       for org in self.orgs_of(record))

        def guardian(record: dict[str, Any]) -> bool:
            roles = [record.get("role", "")] + [r["role"] for r in self.user_roles.get(record["sourcedId"], [])
                                                if r["roleType"].lower() == "primary"]
            return any(ROLE_MAP.get(role.strip().lower()) == "guardian" for role in roles)

        direct = {r["sourcedId"] for r in file.rows if ours(r)}
        students = {r["sourcedId"] for r in file.rows if r["sourcedId"] in direct and not guardian(r)}
        named = {agent for r in file.rows if r["sourcedId"] in students for agent in _split(r.get("agentSourcedIds", ""))}
        self.in_scope = direct | {r["sourcedId"] for r in file.rows if guardian(r) and (
            r["sourcedId"] in named or set(_split(r.get("agentSourcedIds", ""))) & students)}

    def user_outside(self, file: _File, record: dict[str, Any], user: User | None) -> bool:
        """A school admin's roster: refuse (with the reason) a person not of their school, and an account that
        also belongs to another school or is a district admin (ending or demoting it would change more than
        their school)."""
        if self.scope is None:
            return False
        sid = record["sourcedId"]
        why = None
        if sid not in self.in_scope and not (user is not None and self.members.get(user.id, set()) & self.scope):
            why = f"user {sid} is not a person of your school (their orgs: {', '.join(self.orgs_of(record)) or 'none'})"
        elif user is not None and user.district_admin:
            why = f"user {sid} is a district admin; a district admin's roster changes their account"
        elif user is not None and (record["status"].lower() in ("tobedeleted", "inactive")
                                   or record.get("enabledUser", "").lower() in ("false", "0", "no")) \
                and user.active and self.members.get(user.id, set()) - self.scope:
            why = f"user {sid} also belongs to another school, so their account stays active"
        if why is None:
            return False
        self.rejected_users[sid] = record["_row"]
        self.reject(file, record, self.not_yours(why))
        return True

    def users_file(self, file: _File) -> None:
        if self.scope is not None:
            self.find_in_scope(file)
        for record in file.rows:
            state = self.status(file, record)
            if state is None:
                if record["sourcedId"]:
                    self.rejected_users.setdefault(record["sourcedId"], record["_row"])
                continue
            sid = record["sourcedId"]
            self.user_rows[sid] = record["_row"]
            user = self.users.get(sid)
            if self.user_outside(file, record, user):
                continue
            if state == "deleted":
                if user is not None and user.active:
                    if self.actor is not None and user.id == self.actor.id:
                        self.reject(file, record, "this is your own account; it was left active.")
                        continue
                    user.active = False
                    self.report.deactivated["users"] += 1
                continue
            self.upsert_user(file, record, user)
        self.session.flush()
        for record in file.rows:
            self.join_schools(record)
        for record in file.rows:
            self.link_guardians(file, record)

    def upsert_user(self, file: _File, record: dict[str, Any], user: User | None) -> None:
        sid = record["sourcedId"]
        role = self.role_of(file, record, user)
        if role is None:
            self.rejected_users[sid] = record["_row"]
            return
        email: str | None = record.get("email", "").lower() or None
        username = (record["username"] or record.get("identifier", "")).strip().lower() or None
        if email is None and username and EMAIL_RE.match(username):
            email = username
        if email is not None and (not EMAIL_RE.match(email) or len(email) > 254):
            self.rejected_users[sid] = record["_row"]
            self.reject(file, record, f"user {sid} has an e-mail address that is not valid (“{record['email']}”).")
            return
        if username is not None and (len(username) > USERNAME_MAX or any(c.isspace() for c in username)):
            self.rejected_users[sid] = record["_row"]
            self.reject(file, record, f"user {sid} has a username that cannot sign in (“{username[:60]}”: spaces "
                                      f"or more than {USERNAME_MAX} characters).")
            return
        if email is None and username is None:
            self.rejected_users[sid] = record["_row"]
            self.reject(file, record, f"user {sid} has no e-mail address and no username, so the account could "
                                      "not sign in.")
            return
        name = " ".join(part for part in (record["givenName"], record["familyName"]) if part) or (username or "")
        if not name or len(name) > 120:
            self.rejected_users[sid] = record["_row"]
            self.reject(file, record, f"user {sid} needs a name (givenName, familyName) of 1 to 120 characters.")
            return
        grades = _split(record.get("grades", ""))
        grade = grades[0][:16] if grades else None
        tag = next((record.get(c, "") for c in LANGUAGE_COLUMNS if record.get(c, "")), "")
        language = tag.replace("_", "-").split("-")[0].lower() or None
        if language is not None and language not in LANGUAGES:
            language = None
        enabled = record["enabledUser"].lower() not in ("false", "0", "no")

        owner = self.users_by_email.get(email) if email else None
        adopted = False
        if owner is not None and owner is not user:
            if owner.sourced_id is None and user is None and owner.role == role:
                user, adopted = owner, True  # an account made by hand before the first import: link it
                user.sourced_id = sid
                self.users[sid] = user
            else:
                self.rejected_users[sid] = record["_row"]
                taken_by = f"user {owner.sourced_id}" if owner.sourced_id else f"an existing {owner.role} account"
                self.reject(file, record, f"the email {email} is already used by {taken_by}.")
                return
        holder = self.users_by_username.get(username) if username else None
        if holder is not None and holder is not user:
            self.rejected_users[sid] = record["_row"]
            taken_by = f"user {holder.sourced_id}" if holder.sourced_id else f"an existing {holder.role} account"
            self.reject(file, record, f"the username {username} is already used by {taken_by}.")
            return
        if user is not None and self.loses_last_district_admin(file, record, user, role):
            return
        if self.scope is not None and role == "admin" and self.district_word(record):
            self.rejected_users[sid] = record["_row"]
            self.reject(file, record, self.not_yours(f"user {sid} is a district administrator"))
            return
        if user is None:
            try:
                user = create_user(self.session, email=email, username=username, name=name, role=role,
                                   password=None, sourced_id=sid, grade_level=grade, actor=self.actor)
            except ServiceError as error:
                self.rejected_users[sid] = record["_row"]
                self.reject(file, record, error.message)
                return
            user.active = enabled
            user.language = language
            self.users[sid] = user
            if email:
                self.users_by_email[email] = user
            if username:
                self.users_by_username[username] = user
            self.new_users.append(user)
            if email is None:
                self.report.without_email.append(f"{name} (username {username}, {file.filename} row {record['_row']})")
            self.count("users", True, False)
            return
        old_email, old_username = (user.email or "").lower(), (user.username or "").lower()
        # The roster's word on the roles it manages: a role, and an admin's kind (district or school admin).
        district = user.district_admin if not self.says_role(record) else role == "admin" and self.district_word(record)
        before, after = _kind(user.role, user.district_admin), _kind(role, district)
        if before != after:
            self.role_change(user, record, before, after)
            user.district_admin = district
        changed = self.set(user, email=email, username=username, name=name, role=role, grade_level=grade) or adopted \
            or before != after
        if language is not None:  # an SIS that says nothing leaves the person's own choice alone
            changed = self.set(user, language=language) or changed
        if old_email != (email or ""):
            self.users_by_email.pop(old_email, None)
            if email:
                self.users_by_email[email] = user
        if old_username != (username or ""):
            self.users_by_username.pop(old_username, None)
            if username:
                self.users_by_username[username] = user
        if user.active and not enabled:  # enabledUser=false: the account stays, it cannot sign in
            user.active = False
            self.report.deactivated["users"] += 1
            if changed:
                self.report.updated["users"] += 1
            return
        changed = self.set(user, active=enabled) or changed
        self.count("users", False, changed)

    def join_schools(self, record: dict[str, Any]) -> None:
        """The account joins the schools its orgs are (users.csv orgSourcedIds; 1.2: roles.csv orgSourcedId; a
        department's school above it). An administrator of a district org, or a district or system
        administrator, is a district admin; another administrator is the admin of their schools."""
        sid = record["sourcedId"]
        user = self.users.get(sid)
        if user is None or sid in self.rejected_users or record["status"].lower() in ("tobedeleted", "inactive"):
            return
        schools = [school for org in self.orgs_of(record) if org and (school := self.school_for(org)) is not None]
        for school in schools:
            if not self.outside(school):
                self.join(user.id, school.id)
        if user in self.new_users:  # (an existing account's kind was settled by upsert_user)
            user.district_admin = user.role == "admin" and self.district_word(record)

    def says_role(self, record: dict[str, Any]) -> bool:
        """Does the file say this user's role? (A 1.2 delta of users.csv alone does not.)"""
        return self.version == "1.1" or bool(self.user_roles.get(record["sourcedId"])) or bool(record.get("role"))

    def district_word(self, record: dict[str, Any]) -> bool:
        """Does the roster make this administrator a district admin? A district or system administrator, an
        administrator of a district (state, national) org, or of no school; a site administrator, or an
        administrator of schools only, is the admin of those schools."""
        roles = self.user_roles.get(record["sourcedId"], [])
        org_sids = self.orgs_of(record)
        source_roles = {record.get("role", "").strip().lower()} | {r["role"].strip().lower() for r in roles}
        district_org = any(self.other_orgs.get(org, {}).get("type", "").lower() in ("district", "state", "national")
                           for org in org_sids)
        schools = [org for org in org_sids if org and self.school_for(org) is not None]
        return bool(source_roles & {"districtadministrator", "systemadministrator"}) or district_org or not schools

    def role_change(self, user: User, record: dict[str, Any], before: str, after: str) -> None:
        """A change of an account's role or admin kind: listed in the report (the dry run shows it) and audited."""
        self.report.role_changes.append(f"{user.name} ({record['sourcedId']}, {self.files['users'].filename} row "
                                        f"{record['_row']}): {before} → {after}")
        self.session.add(AuditEvent(actor_id=self.actor.id if self.actor else None, action="roster.role_change",
                                    target_type="user", target_id=user.id,
                                    detail={"sourced_id": record["sourcedId"], "before": before, "after": after}))

    def loses_last_district_admin(self, file: _File, record: dict[str, Any], user: User, role: str) -> bool:
        """The roster makes a district admin something less: refused (with the reason) for the last active
        district admin and for the importer's own account; the row's other changes wait with it."""
        if not user.district_admin or not self.says_role(record) or (role == "admin" and self.district_word(record)):
            return False
        others = self.session.scalar(select(func.count()).select_from(User).where(
            User.district_admin.is_(True), User.active.is_(True), User.role == "admin", User.id != user.id)) or 0
        after = "a school admin" if role == "admin" else f"a {role}"
        if self.actor is not None and user.id == self.actor.id:
            why = (f"user {record['sourcedId']} is your own account, a district admin, which this roster makes "
                   f"{after}; it was left as it is (another district admin's import may change it).")
        elif others == 0:
            why = (f"user {record['sourcedId']} ({user.name}) is the last district admin, which this roster makes "
                   f"{after}; it was left as it is (make another district admin first).")
        else:
            return False
        self.rejected_users[record["sourcedId"]] = record["_row"]
        self.reject(file, record, why)
        return True

    def join(self, user_id: int, school_id: int | None) -> None:
        from gradebook.models import SchoolMember

        if school_id is not None and school_id not in self.members.get(user_id, set()):
            self.members.setdefault(user_id, set()).add(school_id)
            self.session.add(SchoolMember(user_id=user_id, school_id=school_id))

    def link_guardians(self, file: _File, record: dict[str, Any]) -> None:
        sid = record["sourcedId"]
        user = self.users.get(sid)
        if user is None or sid in self.rejected_users or record["status"].lower() in ("tobedeleted", "inactive"):
            return
        for agent_sid in _split(record.get("agentSourcedIds", "")):
            agent = self.users.get(agent_sid)
            if user.role == "guardian":
                guardian, student = user, agent
                wanted = "student"
            elif user.role == "student":
                guardian, student = agent, user
                wanted = "guardian"
            else:
                continue
            if agent is None or agent.role != wanted:
                why = "was rejected above" if agent_sid in self.rejected_users else (
                    f"is a {agent.role}" if agent is not None else "is not in users.csv or an earlier import")
                if agent is not None and agent_sid in self.secondary_guardians:
                    why += " account (a guardian only as a secondary role, which an account cannot also hold here)"
                self.reject(file, record, f"agentSourcedIds names {agent_sid}, who {why}; no {wanted} link was made "
                                          f"for {sid}.")
                continue
            assert guardian is not None and student is not None
            pair = (guardian.id, student.id)
            if pair in self.links_seen:
                continue
            self.links_seen.add(pair)
            exists = self.session.scalar(select(GuardianLink.id).where(GuardianLink.guardian_id == guardian.id,
                                                                       GuardianLink.student_id == student.id))
            if exists is None:
                label = (record.get("role") or "guardian").lower() if user is guardian else "guardian"
                self.session.add(GuardianLink(guardian_id=guardian.id, student_id=student.id,
                                              relationship_label=label[:40]))
                self.session.flush()
            for school_id in sorted(self.members.get(student.id, ())):  # a guardian: their children's schools
                if self.scope is None or school_id in self.scope:
                    self.join(guardian.id, school_id)
            self.count("guardian_links", exists is None, False)

    # -- enrollments
    def enrollments_file(self, file: _File) -> None:
        pairs: dict[tuple[int, int], int] = {}
        for record in file.rows:
            state = self.status(file, record)
            if state is None:
                continue
            sid, role = record["sourcedId"], record["role"].lower()
            section = self.sections.get(record["classSourcedId"])
            user = self.users.get(record["userSourcedId"])
            if state == "deleted":
                if self.scope is not None and section is not None and section.school_id not in self.scope:
                    self.reject(file, record, self.not_yours(f"the class {record['classSourcedId']} is another school's"))
                    continue
                self.end_enrollment(sid, role, section, user)
                continue
            if role not in ("student", "teacher"):
                self.reject(file, record, f"enrollment role “{record['role']}” is not imported (student or teacher).")
                continue
            if section is None and record["classSourcedId"] in self.deleted_classes:
                self.in_deleted_class.append(record["_row"])
                continue
            if section is None:
                self.reject(file, record, f"classSourcedId {record['classSourcedId'] or '(empty)'} is not a class in "
                                          "classes.csv or an earlier import.")
                continue
            if self.scope is not None and section.school_id not in self.scope:
                self.reject(file, record, self.not_yours(f"the class {record['classSourcedId']} is another school's"))
                continue
            if user is None or record["userSourcedId"] in self.rejected_users:
                user_sid = record["userSourcedId"]
                why = (f"was rejected (users.csv row {self.rejected_users[user_sid]})"
                       if user_sid in self.rejected_users else "is not in users.csv or an earlier import")
                self.reject(file, record, f"userSourcedId {user_sid or '(empty)'} {why}.")
                continue
            if role == "teacher":
                if user.role not in ("teacher", "admin"):
                    self.reject(file, record, f"{user.name} is a {user.role} account; only teachers and admins can "
                                              "teach a class.")
                    continue
                self.join(user.id, section.school_id)
                exists = self.session.get(SectionTeacher, (section.id, user.id))
                if exists is None:
                    self.session.add(SectionTeacher(section_id=section.id, teacher_id=user.id))
                    self.session.flush()
                self.count("teachers", exists is None, False)
                continue
            if user.role not in ("student", "teacher"):
                self.reject(file, record, f"{user.name} is a {user.role} account; only students (and teachers, "
                                          "in a class they take) can be enrolled as students.")
                continue
            if user.role == "teacher":  # roles are per class: a teacher may take one class as a student
                self.report.warnings.append(f"enrollments.csv row {record['_row']}: {user.name}, a teacher, is "
                                            f"enrolled as a student in {section.name}.")
            pair = (section.id, user.id)
            if pair in pairs:
                self.reject(file, record, f"{user.name} is already enrolled in {section.name} on row {pairs[pair]}.")
                continue
            pairs[pair] = record["_row"]
            self.join(user.id, section.school_id)
            self.enroll(sid, section, user)
        self.session.flush()

    def enroll(self, sid: str, section: Section, student: User) -> None:
        pair = (section.id, student.id)
        by_sid = self.enrollment_by_sid.get(sid)
        target = self.enrollment_by_pair.get(pair)
        if by_sid is not None and by_sid is not target:
            # The same enrollment now names another class or student: end the old one, keep its history.
            by_sid.active = False
            by_sid.sourced_id = None
            self.session.flush()
            del self.enrollment_by_sid[sid]
            if target is None:
                target = Enrollment(section_id=section.id, student_id=student.id, sourced_id=sid, active=True)
                self.session.add(target)
                self.enrollments.append(target)
                self.enrollment_by_pair[pair] = target
            else:
                if target.sourced_id is not None:
                    self.enrollment_by_sid.pop(target.sourced_id, None)
                target.sourced_id, target.active = sid, True
            self.session.flush()
            self.enrollment_by_sid[sid] = target
            self.count("enrollments", False, True)
            return
        if target is None:
            target = Enrollment(section_id=section.id, student_id=student.id, sourced_id=sid, active=True)
            self.session.add(target)
            self.session.flush()
            self.enrollments.append(target)
            self.enrollment_by_pair[pair] = target
            self.enrollment_by_sid[sid] = target
            self.count("enrollments", True, False)
            return
        if target.sourced_id not in (None, sid):
            self.enrollment_by_sid.pop(target.sourced_id, None)
        changed = self.set(target, sourced_id=sid, active=True)
        self.enrollment_by_sid[sid] = target
        self.count("enrollments", False, changed)

    def end_enrollment(self, sid: str, role: str, section: Section | None, user: User | None) -> None:
        enrollment = self.enrollment_by_sid.get(sid)
        if enrollment is not None:
            if enrollment.active:
                enrollment.active = False
                self.report.deactivated["enrollments"] += 1
            return
        if role == "teacher" and section is not None and user is not None:
            link = self.session.get(SectionTeacher, (section.id, user.id))
            if link is not None:
                self.session.delete(link)
                self.session.flush()
                self.report.deactivated["teachers"] += 1

    # -- bulk files are the whole set: imported records they leave out are deactivated
    def complete_bulk(self) -> None:
        files = self.files
        if "academicSessions" in files and files["academicSessions"].mode == "bulk":
            listed = {r["sourcedId"] for r in files["academicSessions"].rows}
            for sid in list(self.terms):
                if sid not in listed:
                    self.deactivate_term(sid)  # (a school admin's: only their school's terms)
        if "classes" in files and files["classes"].mode == "bulk":
            listed = {r["sourcedId"] for r in files["classes"].rows}
            for sid, section in self.sections.items():
                if sid not in listed and section.active and self.ours(section.school_id):
                    section.active = False
                    self.report.deactivated["sections"] += 1
        if "users" in files and files["users"].mode == "bulk":
            listed = {r["sourcedId"] for r in files["users"].rows}
            for sid, user in self.users.items():
                if sid not in listed and user.active and not (self.actor is not None and user.id == self.actor.id) \
                        and (self.scope is None or (self.members.get(user.id, set()) and not user.district_admin
                                                    and self.members.get(user.id, set()) <= self.scope)):
                    user.active = False
                    self.report.deactivated["users"] += 1
        if "enrollments" in files and files["enrollments"].mode == "bulk":
            rows = files["enrollments"].rows
            listed = {r["sourcedId"] for r in rows}
            school_of = {s.id: s.school_id for s in self.sections.values()}
            for sid, enrollment in self.enrollment_by_sid.items():
                if sid not in listed and enrollment.active and self.ours(school_of.get(enrollment.section_id)):
                    enrollment.active = False
                    self.report.deactivated["enrollments"] += 1
            teaching = {(r["classSourcedId"], r["userSourcedId"]) for r in rows if r["role"].lower() == "teacher"
                        and r["status"].lower() not in ("tobedeleted", "inactive")}
            section_sid = {s.id: sid for sid, s in self.sections.items()}
            user_sid = {u.id: sid for sid, u in self.users.items()}
            for link in self.session.scalars(select(SectionTeacher)).all():
                pair = (section_sid.get(link.section_id), user_sid.get(link.teacher_id))
                if None not in pair and pair not in teaching and self.ours(school_of.get(link.section_id)):
                    self.session.delete(link)
                    self.report.deactivated["teachers"] += 1
        self.session.flush()

    def run(self, progress: Progress | None = None) -> None:
        steps = {"orgs": self.orgs, "academicSessions": self.academic_sessions, "courses": self.read_courses,
                 "classes": self.classes, "roles": self.roles_file, "userProfiles": self.user_profiles,
                 "users": self.users_file, "enrollments": self.enrollments_file}
        present = [name for name in FILE_ORDER if name in self.files]
        for done, name in enumerate(present):
            if progress is not None:
                progress(30 + 55 * done // len(present), f"Importing {name}.csv")
            steps[name](self.files[name])
        if progress is not None:
            progress(85, "Deactivating what the roster left out")
        self.complete_bulk()
        if self.gone_sessions:
            rows = ", ".join(str(r) for r in self.gone_sessions)
            self.report.warnings.append(f"academicSessions.csv row{'s' if len(self.gone_sessions) > 1 else ''} {rows}: "
                                        "marked tobedeleted but never imported, so there was nothing to deactivate.")
        if self.in_deleted_class:
            rows = ", ".join(str(r) for r in self.in_deleted_class)
            self.report.warnings.append(f"enrollments.csv row{'s' if len(self.in_deleted_class) > 1 else ''} {rows}: "
                                        "in a class classes.csv marks tobedeleted and that was never imported; "
                                        "nothing to do.")
        self.report.emails_due = sum(1 for user in self.new_users if user.active and user.email)
        self.report.in_person = [InPerson(user.id, user.name, user.role, user.username or "")
                                 for user in self.new_users if user.active and not user.email]
        self.session.flush()

    def welcome(self, base_url: str | None, progress: Progress | None) -> None:
        """Once the import is kept: a set-password link by e-mail to each new account with an address, each
        in the person's language, over one connection (or into the outbox). Sent before the caller commits: a
        mail server that refuses fails the import, so no account is left with a link nobody received."""
        from gradebook.interop.mail_out import email_set_password_links

        people = [user for user in self.new_users if user.active and user.email]
        if not people:
            return
        if progress is not None:
            progress(88, f"E-mailing {len(people)} set-password link(s)")
        self.report.mail_where = email_set_password_links(self.session, people, actor=self.actor,
                                                          base_url=base_url)
        self.report.emailed = len(people)


def _kind(role: str, district_admin: bool) -> str:
    return role if role != "admin" else "district admin" if district_admin else "school admin"


def import_oneroster(session: Session, data: bytes, *, actor: User | None, progress: Progress | None = None,
                     dry_run: bool = False, skip_rejected: bool = False, base_url: str | None = None,
                     school_ids: list[int] | None = None) -> RosterReport:
    """Import a OneRoster 1.1 or 1.2 CSV zip (bulk or delta); see the module docstring for the rules.

    Under the import rule (gradebook/interop/rule.py): ``dry_run`` reports and changes nothing; a zip with a
    rejected row imports nothing (``outcome == "blocked"``) unless ``skip_rejected``.
    ``progress(percent, stage)``, if given, is told as each file is imported (for the admin's progress bar).
    ``school_ids``: a school admin's roster: rows of other schools (orgs, terms the district owns that the
    file would change, classes, people, enrollments) are rejected with the reason, and nothing outside these
    schools is created, changed or deactivated.
    New accounts are e-mailed their set-password link once the import is kept; ``base_url`` (else the app's
    BASE_URL) starts the link.
    """
    files, warnings, version = parse_roster(data)
    report = RosterReport(warnings=warnings, modes={name: f.mode for name, f in files.items()}, version=version)

    importers: list[_Importer] = []

    def write() -> RosterReport:
        importers.append(_Importer(session, files, actor, report, version, school_ids))
        importers[-1].run(progress)
        order = {f"{name}.csv": index for index, name in enumerate(FILE_ORDER)}
        report.rejected.sort(key=lambda r: (order.get(r.file, len(order)), r.row or 0))
        if report.changed:
            session.add(AuditEvent(
                actor_id=actor.id if actor else None, action="roster.import", target_type="roster",
                detail={"created": dict(report.created), "updated": dict(report.updated),
                        "deactivated": dict(report.deactivated), "rejected": len(report.rejected),
                        "skipped_rejected": bool(report.rejected), "modes": report.modes, "version": version}))
        return report

    under_rule(session, write, dry_run=dry_run, skip_rejected=skip_rejected, what="The roster")
    if report.outcome == IMPORTED and importers:
        importers[-1].welcome(base_url, progress)
    else:
        report.in_person = []  # the accounts were rolled back with everything else
    return report
