"""A student's own writes on their learning path: their focus, the activities they pick and how far they are
with them (with a one-line reflection), and "I'm ready to show" (and withdrawing it).

Every function checks that the student is actively enrolled in the section and that what they name belongs
to it; bad input raises ServiceError with a message a 12-year-old can act on, before anything is written.
Committing is the caller's."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gradebook.models import (
    Enrollment,
    PortfolioEntry,
    Section,
    SectionStandard,
    User,
    utcnow,
)
from gradebook.models.paths import (
    Activity,
    ActivityChoice,
    PathAdjustment,
    PathFocus,
    ReadyToShow,
    WayToShow,
)
from gradebook.proficiency._i18n import _
from gradebook.services import ServiceError, StaleWrite

REFLECTION_MAX = 300
NOTE_MAX = 2000
STATUSES = ("chosen", "working", "done")


class NotFound(ServiceError):
    """What the student named is not theirs to see (the web answers 404)."""


def _enrolled_section(session: Session, student: User, section_id: int) -> Section:
    section = session.scalar(select(Section).join(Enrollment, Enrollment.section_id == Section.id).where(
        Section.id == section_id, Enrollment.student_id == student.id, Enrollment.active.is_(True)))
    if section is None:
        raise NotFound(_("That class is not one of yours."))
    return section


def _in_section(session: Session, section_id: int, competency_id: int) -> bool:
    return session.scalar(select(SectionStandard.competency_id).where(
        SectionStandard.section_id == section_id, SectionStandard.competency_id == competency_id)) is not None


def _left_out(session: Session, student: User, section_id: int, competency_id: int) -> PathAdjustment | None:
    return session.scalar(select(PathAdjustment).where(
        PathAdjustment.section_id == section_id, PathAdjustment.student_id == student.id,
        PathAdjustment.kind == "left_out", PathAdjustment.competency_id == competency_id,
        PathAdjustment.removed_at.is_(None)))


def _focus_row(session: Session, student: User, section_id: int) -> PathFocus | None:
    return session.scalar(select(PathFocus).where(PathFocus.section_id == section_id,
                                                  PathFocus.student_id == student.id))


def _choice_row(session: Session, student: User, activity_id: int) -> ActivityChoice | None:
    return session.scalar(select(ActivityChoice).where(ActivityChoice.activity_id == activity_id,
                                                       ActivityChoice.student_id == student.id))


def set_focus(session: Session, student: User, section_id: int, competency_id: int | None) -> PathFocus:
    """The student picks the skill they work on now: any skill of the class's path (voice and choice), not one
    their teacher left out of their path."""
    _enrolled_section(session, student, section_id)
    if competency_id is None:
        raise ServiceError(_("Choose the skill you want to work on."), field="competency_id")
    if not _in_section(session, section_id, competency_id):
        raise ServiceError(_("That skill is not part of this class's path. Choose one from the list."),
                           field="competency_id")
    if _left_out(session, student, section_id, competency_id) is not None:
        raise ServiceError(_("Your teacher left that skill out of your path, so you do not need to work on it. "
                             "Choose another one."), field="competency_id")
    focus = _focus_row(session, student, section_id)
    if focus is None:
        try:
            with session.begin_nested():  # a second tab may have just written it: then update that one
                focus = PathFocus(section_id=section_id, student_id=student.id, competency_id=competency_id)
                session.add(focus)
            return focus
        except IntegrityError:
            focus = _focus_row(session, student, section_id)
            assert focus is not None
    focus.competency_id = competency_id
    focus.updated_at = utcnow()
    session.flush()
    return focus


def _own_activity(session: Session, student: User, section_id: int, activity_id: int) -> Activity:
    _enrolled_section(session, student, section_id)
    activity = session.get(Activity, activity_id)
    if activity is None or activity.section_id != section_id or activity.deleted_at is not None:
        raise NotFound(_("That activity is not on your path."))
    return activity


def one_line(text: str | None) -> str:
    """A reflection is one line: runs of spaces and line breaks become one space."""
    return re.sub(r"\s+", " ", text or "").strip()


def set_activity_status(session: Session, student: User, section_id: int, activity_id: int, status: str | None,
                        reflection: str | None = None, *, version: int | None = None) -> ActivityChoice | None:
    """Pick an activity (`chosen`), say you are working on it or done (with an optional one-line reflection), or
    drop it (`drop`: the pick is removed). `version` refuses a write over a change made elsewhere."""
    activity = _own_activity(session, student, section_id, activity_id)
    if status not in (*STATUSES, "drop"):
        raise ServiceError(_("Choose: pick it, working on it, or done."), field="status")
    text = one_line(reflection)
    if status != "drop" and len(text) > REFLECTION_MAX:
        raise ServiceError(_("Keep your reflection to one line of %(max)d characters or fewer (it has %(length)d).",
                             max=REFLECTION_MAX, length=len(text)), field="reflection")
    choice = _choice_row(session, student, activity.id)
    if choice is not None and version is not None and choice.version != version:
        raise StaleWrite(_("You changed this activity in another tab since this page opened. "
                           "Reload to see where it stands."), current=choice)
    if status == "drop":
        if choice is not None:
            session.delete(choice)
            session.flush()
        return None
    if choice is None:
        try:
            with session.begin_nested():  # a double click may have just written it: then update that one
                choice = ActivityChoice(activity_id=activity.id, student_id=student.id, status=status,
                                        reflection=text or None)
                session.add(choice)
            return choice
        except IntegrityError:
            choice = _choice_row(session, student, activity.id)
            assert choice is not None
    choice.status = status
    if reflection is not None:  # a form without the field keeps the reflection already written
        choice.reflection = text or None
    choice.updated_at = utcnow()
    session.flush()
    return choice


def ready_to_show(session: Session, student: User, section_id: int, way_id: int | None, note: str | None,
                  portfolio_entry_id: int | None = None, *, competency_id: int | None = None) -> ReadyToShow:
    """"I'm ready to show": the student chooses a way to show a skill of this class (``competency_id``, when
    given, is the skill they are showing: the way must be one of its ways) and says what they will bring
    (optionally one of their own portfolio entries); it lands in the teacher's queue."""
    _enrolled_section(session, student, section_id)
    if way_id is None:
        raise ServiceError(_("Choose how you want to show what you know."), field="way_id")
    way = session.get(WayToShow, way_id)
    if way is None or way.section_id != section_id or way.deleted_at is not None \
            or not _in_section(session, section_id, way.competency_id):
        raise ServiceError(_("That way to show is not one of this class's. Choose one from the list."), field="way_id")
    if competency_id is not None and way.competency_id != competency_id:
        raise ServiceError(_("That way to show is for another skill. Choose one of this skill's ways."), field="way_id")
    text = (note or "").strip()
    if not text:
        raise ServiceError(_("Say what you will bring or do, so your teacher can plan it."), field="note")
    if len(text) > NOTE_MAX:
        raise ServiceError(_("Keep it under %(max)d characters.", max=NOTE_MAX), field="note")
    if portfolio_entry_id is not None:
        entry = session.get(PortfolioEntry, portfolio_entry_id)
        if entry is None or entry.student_id != student.id or entry.deleted_at is not None:
            raise ServiceError(_("Choose one of your own portfolio entries, or none."), field="portfolio_entry_id")
    if _left_out(session, student, section_id, way.competency_id) is not None:
        raise ServiceError(_("Your teacher left that skill out of your path; there is nothing to show for it."),
                           field="way_id")
    waiting = session.scalar(select(ReadyToShow).where(
        ReadyToShow.section_id == section_id, ReadyToShow.student_id == student.id,
        ReadyToShow.competency_id == way.competency_id, ReadyToShow.status == "open"))
    if waiting is not None:
        raise ServiceError(_("You already said you are ready to show this skill: it is in your teacher's queue. "
                             "Withdraw that one first if you want to change it."), field="way_id")
    request = ReadyToShow(section_id=section_id, student_id=student.id, competency_id=way.competency_id,
                          way_id=way.id, note=text, portfolio_entry_id=portfolio_entry_id, status="open")
    session.add(request)
    session.flush()
    return request


def withdraw_ready(session: Session, student: User, section_id: int, request_id: int) -> ReadyToShow:
    """The student takes back an open "ready to show" (it leaves the teacher's queue)."""
    _enrolled_section(session, student, section_id)
    request = session.get(ReadyToShow, request_id)
    if request is None or request.student_id != student.id or request.section_id != section_id:
        raise NotFound(_("That request is not yours."))
    if request.status != "open":
        raise ServiceError(_("Your teacher has already dealt with that request; it cannot be withdrawn now."))
    request.status = "withdrawn"
    request.closed_at = utcnow()
    request.closed_by = student.id
    session.flush()
    return request
