"""Read models for the teacher's pages, each loaded in a fixed number of queries whatever the class size."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple

from sqlalchemy import (
    Date,
    Integer,
    Select,
    String,
    bindparam,
    func,
    literal,
    literal_column,
    or_,
    select,
    union,
    union_all,
)
from sqlalchemy.orm import Session, aliased

from gradebook import proficiency as prof
from gradebook.models import (
    Assessment,
    AssessmentStandard,
    Competency,
    Enrollment,
    Evidence,
    Framework,
    HabitEvidence,
    LevelDescriptor,
    Override,
    ProficiencyRecord,
    ReassessmentRequest,
    ScaleLevel,
    Section,
    SectionHabit,
    SectionStandard,
    User,
)
from gradebook.services.habits import (
    HabitCell,
    HabitColumn,
    habit_cells,
    habit_columns_from_rows,
    section_habits,
)
from gradebook.services.proficiency import scale_for


def level_class(points: float | None) -> str:
    """CSS class for a level's colour (served by /scale.css, as the CSP allows no inline style)."""
    if points is None:
        return "lv-none"
    return "lv-" + f"{points:g}".replace(".", "_")


@dataclass(slots=True)
class Cell:
    score: float | None = None
    level: prof.Level | None = None
    computed_level: prof.Level | None = None
    count: int = 0
    needed: int = 0
    trend: str | None = None
    override: Override | None = None
    missing: int = 0
    shown_before: float | None = None  # the best level shown at mastery in an earlier section (its record)

    @property
    def css(self) -> str:
        return level_class(self.level.points if self.level else None)

    @property
    def shown_last_year(self) -> bool:
        """Mastered in an earlier section but not (yet) here: the teacher may accept it as evidence."""
        return self.shown_before is not None and not (self.level is not None and self.level.points >= self._mastery)

    @property
    def below_mastery(self) -> bool:
        return self.level is not None and not self.level.is_mastery and self.level.points < self._mastery

    _mastery: float = 3.0


@dataclass
class Group:
    competency: Competency | None
    standards: list[Competency] = field(default_factory=list)


@dataclass
class SectionGradebook:
    section: Section
    scale: prof.Scale
    students: list[User]
    groups: list[Group]
    cells: dict[tuple[int, int], Cell]
    # Habits of work, apart: their own columns and cells, never among `cells` (so nothing that reads
    # achievement from the book, such as reteach groups, the share at mastery or the CSV, can meet them).
    habits: list[HabitColumn] = field(default_factory=list)
    habit_cells: dict[tuple[int, int], HabitCell] = field(default_factory=dict)

    @property
    def standards(self) -> list[Competency]:
        return [s for g in self.groups for s in g.standards]

    def cell(self, student_id: int, competency_id: int) -> Cell:
        return self.cells.get((student_id, competency_id)) or Cell(_mastery=self.scale.mastery.points)

    def habit_cell(self, student_id: int, habit_id: int) -> HabitCell:
        return self.habit_cells.get((student_id, habit_id)) or HabitCell()

    def share_at_mastery(self) -> float | None:
        cells = [self.cell(s.id, c.id) for s in self.students for c in self.standards]
        if not cells:
            return None
        return sum(1 for c in cells if c.level and c.level.points >= self.scale.mastery.points) / len(cells)


class GridCell(NamedTuple):
    """What a grid cell in a given state shows (`grid_cell`): the level's CSS class, the link's title after
    "<student> · <standard>: ", the level's symbol (None without a level), the text (the score, the override's
    points, or "·"), whether it is the teacher's judgement, how many pieces of work are missing, and whether it
    was shown at mastery in an earlier section."""

    css: str
    title: str
    symbol: str | None
    text: str
    override: bool
    missing: int
    earlier: bool


# A cell's state: (its level's points or None, score, teacher judgement?, missing count, best level shown earlier
# or None, any evidence?), plain values (a float hashes in C, a Level in Python). Far fewer distinct states than
# cells in a grid: what each shows is worked out once (`grid_cell`).
GridState = tuple[float | None, float | None, bool, int, float | None, bool]
EMPTY_STATE: GridState = (None, None, False, 0, None, False)


def grid_rows(book: GridBook, students: list[Any],
              standards: list[Any]) -> list[tuple[int, str, list[GridState]]]:
    """The grid's rows: each student's id and name with the state of each cell of `standards`, in order."""
    states, ids = book.states.get, [s.id for s in standards]
    return [(student.id, student.name, [states((student.id, cid), EMPTY_STATE) for cid in ids])
            for student in students]


def grid_cell(scale: prof.Scale, state: GridState) -> GridCell:
    """What a cell in this state shows; scores through the scale (`scale.show`)."""
    points, score, override, missing, before, counted = state
    level = scale.level_with_points(points) if points is not None else None
    if level is not None:
        title = level.label
        if score is not None:
            title += f" ({scale.show(score, 2)})"
        if override:
            title += ", teacher judgement"
        text = scale.show(score, 1) if score is not None and not override else f"{level.points:g}"
        symbol: str | None = level.symbol
        css = level_class(level.points)
    else:
        title = "not enough evidence yet" if counted else "no evidence yet"
        text, symbol, css = "·", None, "lv-none"
    if missing:
        title += f"; {missing} missing"
    if before is not None:
        shown = scale.level_for(before)
        title += f"; shown last year at {shown.label if shown else before}"
    return GridCell(css, title, symbol, text, override, missing, before is not None)


def section_students(session: Session, section_id: int) -> list[User]:
    return list(session.scalars(
        select(User).join(Enrollment, Enrollment.student_id == User.id)
        .where(Enrollment.section_id == section_id, Enrollment.active.is_(True)).order_by(User.name)
    ))


_GROUPS_QUERY: list[Select] = []


def section_groups(session: Session, section_id: int) -> list[Group]:
    if not _GROUPS_QUERY:  # built once (an alias costs more to build than the query takes to run)
        parent = aliased(Competency)
        _GROUPS_QUERY.append(
            select(Competency, parent).join(SectionStandard, SectionStandard.competency_id == Competency.id)
            .outerjoin(parent, parent.id == Competency.parent_id)
            .where(SectionStandard.section_id == bindparam("section_id")).order_by(SectionStandard.position))
    rows = session.execute(_GROUPS_QUERY[0], {"section_id": section_id}).all()  # standards and parents at once
    standards = [standard for standard, _ in rows]
    parents = {p.id: p for _, p in rows if p is not None}
    groups: dict[int | None, Group] = {}
    for standard in standards:
        key = standard.parent_id
        if key not in groups:
            groups[key] = Group(parents.get(key) if key else None)
        groups[key].standards.append(standard)
    return list(groups.values())


def _columns_select(chosen: Callable[[Any, Any], Sequence[Any]]) -> Select:
    """The statement behind the grid's columns: a section's standards and habits in their places, each standard
    with its parent, each habit with its framework's method and scale levels (one row a level). `chosen` gives
    what it selects from the parent alias and the habit flag; the section is a bound parameter."""
    parent = aliased(Competency)
    placed = union_all(
        select(SectionStandard.competency_id.label("cid"), SectionStandard.position.label("pos"),
               literal(0).label("habit")).where(SectionStandard.section_id == bindparam("section_id")),
        select(SectionHabit.competency_id, SectionHabit.position, literal(1))
        .where(SectionHabit.section_id == bindparam("section_id"))).subquery()
    return (select(*chosen(parent, placed.c.habit))
            .join(placed, placed.c.cid == Competency.id)
            .outerjoin(parent, (parent.id == Competency.parent_id) & (placed.c.habit == 0))
            .outerjoin(Framework, (Framework.id == Competency.framework_id) & (placed.c.habit == 1))
            .outerjoin(ScaleLevel, ScaleLevel.scale_id == Framework.scale_id)
            .order_by(placed.c.habit, placed.c.pos, Competency.code, ScaleLevel.points.desc()))


_COLUMNS_QUERY: list[Select] = []


def section_columns(session: Session, section_id: int) -> tuple[list[Group], list[HabitColumn]]:
    """The grid's columns in one statement: the standards (grouped under their parents) and, apart, the
    habits of work the section tracks, each with its framework's method and scale levels."""
    if not _COLUMNS_QUERY:  # built once, the section a bound parameter (building it costs more than running it)
        _COLUMNS_QUERY.append(_columns_select(lambda parent, habit: (Competency, parent, habit, Framework.habit_method,
                                                                      ScaleLevel)))
    rows = session.execute(_COLUMNS_QUERY[0], {"section_id": section_id}).all()
    groups: dict[int | None, Group] = {}
    for standard, parent_row, habit, _method, _level in rows:
        if habit:
            continue
        key = standard.parent_id
        if key not in groups:
            groups[key] = Group(parent_row if key else None)
        groups[key].standards.append(standard)
    habits = habit_columns_from_rows([(c, method, level) for c, _p, habit, method, level in rows if habit])
    return list(groups.values()), habits


@dataclass(frozen=True)
class ShownOverride:
    """A live override as the grid reads it (a row, not the entity)."""

    id: int
    level_points: float
    reason: str


def load_grid_cells(session: Session, section: Section, scale: prof.Scale,
                    habits: list[HabitColumn] | None = None) -> dict[tuple[int, int], Cell]:
    """The grid's cells: the cache read as rows, with live overrides, missing-work counts and what each
    student showed at mastery in earlier sections (the standard or an exact match of it), in one statement
    (a cell's `override` is then a ShownOverride row, not the entity)."""
    return load_grid(session, section, scale, habits or [])[0]


_GRID_ROWS: dict[bool, Any] = {}


def _grid_statement(with_habits: bool) -> Any:
    """The grid's cells in one union, built once (the section, its term, the mastery points and the habits' ids
    are bound parameters): (kind, student, standard, value, id, text, date, number) rows of the cache (kind 0:
    score, evidence count, trend, needed), live overrides (1: points, id, reason), missing-work counts (2), (with
    habits) the habit observations (3: score, id, status, date) and what each student showed at mastery in
    earlier sections (4: the best points)."""
    statement = _GRID_ROWS.get(with_habits)
    if statement is not None:
        return statement
    section_id, no_number = bindparam("section_id"), literal(None, Integer).label("number")
    records = select(literal(0).label("kind"), ProficiencyRecord.student_id, ProficiencyRecord.competency_id,
                     ProficiencyRecord.score.label("value"), ProficiencyRecord.evidence_count.label("id"),
                     ProficiencyRecord.trend.label("text"), literal(None, Date).label("observed_on"),
                     ProficiencyRecord.needed.label("number")).where(ProficiencyRecord.section_id == section_id)
    overrides = select(literal(1), Override.student_id, Override.competency_id, Override.level_points, Override.id,
                       Override.reason, literal(None, Date), no_number).where(
        Override.section_id == section_id, Override.cleared_at.is_(None))
    missing = select(literal(2), Evidence.student_id, Evidence.competency_id, func.count(), literal(None, Integer),
                     literal(None, String), literal(None, Date), no_number).where(
        # 'missing' written out, not bound: the partial index ix_evidence_missing is then used (SQLite and a
        # PostgreSQL generic plan match a partial index's condition only against a literal)
        Evidence.section_id == section_id, Evidence.status == literal_column("'missing'"), Evidence.deleted_at.is_(None)
    ).group_by(Evidence.student_id, Evidence.competency_id)
    parts = [records, overrides, missing]
    if with_habits:  # habit observations ride in the same statement, and are kept apart below
        parts.append(select(literal(3), HabitEvidence.student_id, HabitEvidence.competency_id, HabitEvidence.score,
                            HabitEvidence.id, HabitEvidence.status, HabitEvidence.observed_on, no_number)
                     .where(HabitEvidence.section_id == section_id, HabitEvidence.deleted_at.is_(None),
                            HabitEvidence.competency_id.in_(bindparam("habit_ids", expanding=True))))
    statement = _GRID_ROWS[with_habits] = union_all(*parts, earlier_mastery_rows())
    return statement


def _grid_union(session: Session, section: Section, mastery: float, habits: list[HabitColumn]) -> list[Any]:
    """`_grid_statement`'s rows: plain rows through Core, no ORM result machinery for 1,400 of them."""
    params: dict[str, Any] = earlier_mastery_params(section, mastery)
    if habits:
        params["habit_ids"] = [h.id for h in habits]
    return session.connection().execute(_grid_statement(bool(habits)), params).all()


def load_grid_states(session: Session, section: Section, scale: prof.Scale, habits: list[HabitColumn]
                     ) -> tuple[dict[tuple[int, int], GridState], dict[tuple[int, int], HabitCell]]:
    """`load_grid` for the grid page: each cell's GridState (what `grid_cell` shows) instead of a Cell, from the
    same statement, by the same rules (an override's level replaces the computed one; what was shown at mastery
    earlier is marked only while the cell is below mastery here)."""
    mastery = scale.mastery.points
    states: dict[tuple[int, int], GridState] = {}
    points: dict[float | None, float | None] = {None: None}  # each distinct score's level's points, found once
    marks, habit_rows = [], []
    for kind, student_id, competency_id, value, row_id, text, observed_on, _needed in _grid_union(
            session, section, mastery, habits):
        if kind == 0:
            found = points.get(value, points)
            if found is points:
                level = scale.level_for(value)
                found = points[value] = level.points if level is not None else None
            states[(student_id, competency_id)] = (found, value, False, 0, None, row_id > 0)  # type: ignore[assignment]
        elif kind == 3:
            habit_rows.append((student_id, competency_id, row_id, text, value, observed_on))
        else:
            marks.append((kind, student_id, competency_id, value))
    earlier = []
    for kind, student_id, competency_id, value in marks:  # after every cache row, whatever the order
        key = (student_id, competency_id)
        level_points, score, override, missing, before, counted = states.get(key, EMPTY_STATE)
        if kind == 4:
            before = value
            earlier.append(key)
        elif kind == 1:
            level_points, override = scale.level_with_points(value).points, True
        else:
            missing = int(value)
        states[key] = (level_points, score, override, missing, before, counted)
    for key in earlier:  # shown last year only while not at mastery here (Cell.shown_last_year)
        level_points, score, override, missing, before, counted = states[key]
        if level_points is not None and level_points >= mastery:
            states[key] = (level_points, score, override, missing, None, counted)
    return states, habit_cells(habits, habit_rows)


def load_grid(session: Session, section: Section, scale: prof.Scale, habits: list[HabitColumn]
              ) -> tuple[dict[tuple[int, int], Cell], dict[tuple[int, int], HabitCell]]:
    """The achievement cells and, apart, the habit cells, in one statement (`_grid_statement`): the cache as
    rows, then the marks on them; the habit observations are sorted out before any achievement cell."""
    mastery = scale.mastery.points
    cells: dict[tuple[int, int], Cell] = {}
    levels: dict[float | None, prof.Level | None] = {None: None}  # each distinct score's level, found once
    marks, habit_rows = [], []
    for kind, student_id, competency_id, value, row_id, text, observed_on, needed in _grid_union(
            session, section, mastery, habits):
        if kind == 0:
            level = levels.get(value, levels)
            if level is levels:
                level = levels[value] = scale.level_for(value)
            # positional: score, level, computed level, count, needed, trend, override, missing, shown before, mastery
            cells[(student_id, competency_id)] = Cell(value, level, level, row_id, needed, text,  # type: ignore[arg-type]
                                                      None, 0, None, mastery)
        elif kind == 3:
            habit_rows.append((student_id, competency_id, row_id, text, value, observed_on))
        else:
            marks.append((kind, student_id, competency_id, value, row_id, text))
    for kind, student_id, competency_id, value, row_id, text in marks:  # after every cache row, whatever the order
        key = (student_id, competency_id)
        cell = cells.get(key) or cells.setdefault(key, Cell(_mastery=mastery))
        if kind == 4:
            cell.shown_before = value
        elif kind == 1:
            cell.override = ShownOverride(row_id, value, text)  # type: ignore[assignment]
            cell.level = scale.level_with_points(value)
        else:
            cell.missing = int(value)
    return cells, habit_cells(habits, habit_rows)


_EARLIER_MASTERY: list[Select] = []


def earlier_mastery_rows() -> Select:
    """(4, student, this section's standard, best level, None, None, None, None) for each enrolled student who showed the
    standard, or an exact match of it, at mastery in an earlier section (a teacher's judgement there counts).
    Built once: the section, its term and the mastery points are bound parameters (`section_id`, `term_id`,
    `mastery`, which `earlier_mastery_params` gives)."""
    if _EARLIER_MASTERY:
        return _EARLIER_MASTERY[0]
    from gradebook.models import Term

    section_id, term_id = bindparam("section_id"), bindparam("term_id")
    here, there, assessed, enrolled, this_term = (aliased(Competency), aliased(Competency),
                                                  aliased(SectionStandard), aliased(Enrollment), aliased(Term))
    # This section's standards and what counts as each (itself, and the standards that share its match): a
    # few dozen pairs, so the records are then found by (student, standard), never by scanning for an OR.
    counts_as = union(
        select(assessed.competency_id.label("target"), assessed.competency_id.label("source"))
        .where(assessed.section_id == section_id),
        select(assessed.competency_id, there.id)
        .join(here, here.id == assessed.competency_id)
        .join(there, there.match_id == here.match_id)
        .where(assessed.section_id == section_id, here.match_id.is_not(None))).subquery()
    judged = select(Override.level_points).where(
        Override.student_id == ProficiencyRecord.student_id, Override.section_id == ProficiencyRecord.section_id,
        Override.competency_id == ProficiencyRecord.competency_id, Override.cleared_at.is_(None)
    ).correlate(ProficiencyRecord).scalar_subquery()
    points = func.coalesce(judged, ProficiencyRecord.level_points)
    starts_on = select(this_term.starts_on).where(this_term.id == term_id).scalar_subquery()
    _EARLIER_MASTERY.append(
        select(literal(4).label("kind"), ProficiencyRecord.student_id, counts_as.c.target,
               func.max(points).label("value"), literal(None, Integer), literal(None, String), literal(None, Date),
               literal(None, Integer))
        .select_from(enrolled)
        .join(ProficiencyRecord, ProficiencyRecord.student_id == enrolled.student_id)
        .join(counts_as, counts_as.c.source == ProficiencyRecord.competency_id)
        .join(Section, Section.id == ProficiencyRecord.section_id)
        .join(Term, Term.id == Section.term_id)
        .where(enrolled.section_id == section_id, enrolled.active.is_(True), points >= bindparam("mastery"),
               Section.id != section_id,  # an earlier section: as services.record.earlier_sections_filter says
               or_(Term.starts_on < starts_on, Term.closed_at.is_not(None), Section.closed_at.is_not(None)))
        .group_by(ProficiencyRecord.student_id, counts_as.c.target))
    return _EARLIER_MASTERY[0]


def earlier_mastery_params(section: Section, mastery: float) -> dict[str, Any]:
    return {"section_id": section.id, "term_id": section.term_id, "mastery": mastery}


def load_cells(session: Session, section: Section, scale: prof.Scale, student_ids: list[int] | None = None,
               competency_ids: list[int] | None = None) -> dict[tuple[int, int], Cell]:
    """Cached proficiency, live overrides and missing-work counts for a section (3 queries)."""
    mastery = scale.mastery.points
    record_query = select(ProficiencyRecord).where(ProficiencyRecord.section_id == section.id)
    override_query = select(Override).where(Override.section_id == section.id, Override.cleared_at.is_(None))
    missing_query = (
        select(Evidence.student_id, Evidence.competency_id, func.count())
        .where(Evidence.section_id == section.id, Evidence.status == "missing", Evidence.deleted_at.is_(None))
        .group_by(Evidence.student_id, Evidence.competency_id)
    )
    if student_ids is not None:
        record_query = record_query.where(ProficiencyRecord.student_id.in_(student_ids))
        override_query = override_query.where(Override.student_id.in_(student_ids))
        missing_query = missing_query.where(Evidence.student_id.in_(student_ids))
    if competency_ids is not None:
        record_query = record_query.where(ProficiencyRecord.competency_id.in_(competency_ids))
    cells: dict[tuple[int, int], Cell] = defaultdict(lambda: Cell(_mastery=mastery))
    for record in session.scalars(record_query):
        level = scale.level_for(record.score) if record.score is not None else None
        cells[(record.student_id, record.competency_id)] = Cell(
            score=record.score, level=level, computed_level=level, count=record.evidence_count,
            needed=record.needed, trend=record.trend, _mastery=mastery)
    for override in session.scalars(override_query):
        cell = cells[(override.student_id, override.competency_id)]
        cell.override = override
        cell.level = scale.level_with_points(override.level_points)
    for student_id, competency_id, count in session.execute(missing_query):
        cells[(student_id, competency_id)].missing = count
    return dict(cells)


def load_gradebook(session: Session, section: Section) -> SectionGradebook:
    scale = scale_for(session, section)
    students = section_students(session, section.id)
    groups, habits = section_columns(session, section.id)
    cells, habit_cells_ = load_grid(session, section, scale, habits)
    return SectionGradebook(section, scale, students, groups, cells, habits, habit_cells_)


class ColumnRow(NamedTuple):
    """A standard, its parent competency or a habit as the grid shows it: a row, not the entity."""

    id: int
    code: str
    short_name: str | None
    statement: str
    parent_id: int | None


class StudentRow(NamedTuple):
    """A student as the grid shows them: a row, not the entity."""

    id: int
    name: str


class LevelRow(NamedTuple):
    """A habit scale's level as `habit_scale_from` reads it: a row, not the entity."""

    id: int
    points: float
    label: str
    colour: str
    is_mastery: bool
    description: str | None


_GRID_STUDENTS = (select(User.id, User.name).join(Enrollment, Enrollment.student_id == User.id)
                  .where(Enrollment.section_id == bindparam("section_id"), Enrollment.active.is_(True))
                  .order_by(User.name))
_GRID_COLUMNS: list[Select] = []


def _grid_columns(session: Session, section_id: int) -> tuple[list[Group], list[HabitColumn]]:
    """`section_columns` as rows (Core, no entities): the standards grouped under their parents and, apart,
    the habits with their methods and scales, in one statement."""
    if not _GRID_COLUMNS:  # built once, the section a bound parameter
        _GRID_COLUMNS.append(_columns_select(lambda parent, habit: (
            Competency.id, Competency.code, Competency.short_name, Competency.statement, Competency.parent_id,
            parent.id, parent.code, parent.short_name, parent.statement, parent.parent_id,
            habit, Framework.habit_method, ScaleLevel.id, ScaleLevel.points, ScaleLevel.label,
            ScaleLevel.colour, ScaleLevel.is_mastery, ScaleLevel.description)))
    groups: dict[int | None, Group] = {}
    habit_rows: list[tuple[Any, str | None, LevelRow | None]] = []
    for row in session.connection().execute(_GRID_COLUMNS[0], {"section_id": section_id}).all():
        column = ColumnRow(*row[0:5])
        if row[10]:
            habit_rows.append((column, row[11], LevelRow(*row[12:18]) if row[12] is not None else None))
            continue
        key = column.parent_id
        if key not in groups:
            groups[key] = Group(ColumnRow(*row[5:10]) if key else None)  # type: ignore[arg-type]
        groups[key].standards.append(column)  # type: ignore[arg-type]
    return list(groups.values()), habit_columns_from_rows(habit_rows)  # type: ignore[arg-type]


@dataclass
class GridBook:
    """The grid page's read model: `SectionGradebook` as rows (StudentRow, ColumnRow) and each cell's GridState
    rather than a Cell (the CSV, the exports and reteach read `load_gradebook`)."""

    section: Section
    scale: prof.Scale
    students: list[StudentRow]
    groups: list[Group]
    states: dict[tuple[int, int], GridState]
    habits: list[HabitColumn] = field(default_factory=list)
    habit_cells: dict[tuple[int, int], HabitCell] = field(default_factory=dict)

    def level_points(self, student_id: int, competency_id: int) -> float | None:
        """The points of the cell's level (the teacher's judgement if any), None without a level."""
        return self.states.get((student_id, competency_id), EMPTY_STATE)[0]

    def below_mastery(self, student_id: int, competency_id: int) -> bool:
        points = self.level_points(student_id, competency_id)
        return points is not None and points < self.scale.mastery.points  # (Cell.below_mastery)


def load_grid_book(session: Session, section: Section) -> GridBook:
    """The grid page's data in four statements: the scale (remembered for the transaction), the students, the
    columns, every cell."""
    scale = scale_for(session, section)
    students = [StudentRow(*row) for row in session.connection().execute(
        _GRID_STUDENTS, {"section_id": section.id}).all()]
    groups, habits = _grid_columns(session, section.id)
    states, habit_cells_ = load_grid_states(session, section, scale, habits)
    return GridBook(section, scale, students, groups, states, habits, habit_cells_)


@dataclass
class EntrySheet:
    """An assessment's entry page: students × its standards, with the live evidence in each cell."""

    section: Section
    assessment: Assessment
    scale: prof.Scale
    students: list[User]
    standards: list[Competency]
    evidence: dict[tuple[int, int], Evidence]
    cells: dict[tuple[int, int], Cell]
    # Habits of work, apart: the section's habits, this assessment's live habit observations, their levels.
    habits: list[HabitColumn] = field(default_factory=list)
    habit_evidence: dict[tuple[int, int], HabitEvidence] = field(default_factory=dict)
    habit_cells: dict[tuple[int, int], HabitCell] = field(default_factory=dict)

    def cell(self, student_id: int, competency_id: int) -> Cell:
        return self.cells.get((student_id, competency_id)) or Cell(_mastery=self.scale.mastery.points)

    def habit_cell(self, student_id: int, habit_id: int) -> HabitCell:
        return self.habit_cells.get((student_id, habit_id)) or HabitCell()


def assessment_standards(session: Session, assessment_id: int) -> list[Competency]:
    return list(session.scalars(
        select(Competency).join(AssessmentStandard, AssessmentStandard.competency_id == Competency.id)
        .where(AssessmentStandard.assessment_id == assessment_id).order_by(Competency.code)
    ))


def load_entry_sheet(session: Session, section: Section, assessment: Assessment,
                     student: User | None = None) -> EntrySheet:
    """The whole sheet, or (after one cell is saved) just one student's row of it."""
    scale = scale_for(session, section)
    students = [student] if student is not None else section_students(session, section.id)
    standards = assessment_standards(session, assessment.id)
    evidence_query = select(Evidence).where(Evidence.assessment_id == assessment.id, Evidence.deleted_at.is_(None))
    if student is not None:
        evidence_query = evidence_query.where(Evidence.student_id == student.id)
    evidence = {(e.student_id, e.competency_id): e for e in session.scalars(evidence_query)}
    cells = load_cells(session, section, scale, student_ids=[student.id] if student is not None else None,
                       competency_ids=[s.id for s in standards])
    habits = section_habits(session, section.id)
    habit_evidence: dict[tuple[int, int], HabitEvidence] = {}
    habit_cells_: dict[tuple[int, int], HabitCell] = {}
    if habits:
        habit_query = select(HabitEvidence).where(HabitEvidence.section_id == section.id,
                                                  HabitEvidence.deleted_at.is_(None))
        if student is not None:
            habit_query = habit_query.where(HabitEvidence.student_id == student.id)
        observed = list(session.scalars(habit_query))
        habit_evidence = {(e.student_id, e.competency_id): e for e in observed if e.assessment_id == assessment.id}
        habit_cells_ = habit_cells(habits, [(e.student_id, e.competency_id, e.id, e.status, e.score, e.observed_on)
                                            for e in observed])
    return EntrySheet(section, assessment, scale, students, standards, evidence, cells, habits, habit_evidence,
                      habit_cells_)


def next_step(session: Session, competency_id: int, level: prof.Level | None, scale: prof.Scale) -> str | None:
    """The level descriptor for the next level up: what to aim for next."""
    points = [lv.points for lv in sorted(scale.levels, key=lambda lv: lv.points)]
    if level is None:
        target = scale.mastery.points
    else:
        higher = [p for p in points if p > level.points]
        if not higher:
            return None
        target = higher[0]
    return session.scalar(select(LevelDescriptor.description).where(
        LevelDescriptor.competency_id == competency_id, LevelDescriptor.points == target))


def next_descriptor(session: Session, competency_id: int, level: prof.Level | None,
                    scale: prof.Scale) -> LevelDescriptor | None:
    """The descriptor of the next level up (the mastery level's when there is no level yet)."""
    higher = sorted(p.points for p in scale.levels if level is None or p.points > level.points)
    if not higher:
        return None
    target = scale.mastery.points if level is None else higher[0]
    return session.scalar(select(LevelDescriptor).where(LevelDescriptor.competency_id == competency_id,
                                                        LevelDescriptor.points == target))


def next_steps_for(session: Session, competency_ids: list[int], scale: prof.Scale) -> list[str]:
    """The mastery-level descriptor of each standard: the next step offered while writing feedback."""
    return list(session.scalars(select(LevelDescriptor.description).where(
        LevelDescriptor.competency_id.in_(competency_ids), LevelDescriptor.points == scale.mastery.points)))


def open_reassessment_requests(session: Session, section_id: int) -> list[tuple[ReassessmentRequest, User, Competency]]:
    return list(session.execute(
        select(ReassessmentRequest, User, Competency)
        .join(User, User.id == ReassessmentRequest.student_id)
        .join(Competency, Competency.id == ReassessmentRequest.competency_id)
        .where(ReassessmentRequest.section_id == section_id, ReassessmentRequest.status == "open")
        .order_by(ReassessmentRequest.created_at)
    ).all())


OUTSTANDING = ("missing", "not_yet")


def _outstanding(query: Select) -> Select:
    """Restrict a query on Evidence to live missing or not-yet work of students still enrolled."""
    return (query.join(Enrollment, (Enrollment.section_id == Evidence.section_id)
                       & (Enrollment.student_id == Evidence.student_id))
            .where(Evidence.status.in_(OUTSTANDING), Evidence.deleted_at.is_(None), Enrollment.active.is_(True)))


def outstanding_counts(session: Session, section_ids: list[int]) -> dict[int, int]:
    """Section id -> how many pieces of work are missing or not yet in (one query)."""
    return dict(session.execute(_outstanding(
        select(Evidence.section_id, func.count()).where(Evidence.section_id.in_(section_ids))
    ).group_by(Evidence.section_id)).all())


def outstanding_work(session: Session, section_id: int) -> list[tuple[User, list[tuple[Evidence, Assessment | None, Competency]]]]:
    """Missing and not-yet evidence of the section's enrolled students, by student (one query)."""
    rows = session.execute(_outstanding(
        select(Evidence, Assessment, Competency, User)
        .join(User, User.id == Evidence.student_id)
        .join(Competency, Competency.id == Evidence.competency_id)
        .outerjoin(Assessment, Assessment.id == Evidence.assessment_id)
        .where(Evidence.section_id == section_id)
    ).order_by(User.name, User.id, Evidence.observed_on, Evidence.id)).all()
    by_student: dict[int, tuple[User, list[tuple[Evidence, Assessment | None, Competency]]]] = {}
    for evidence, assessment, competency, student in rows:
        by_student.setdefault(student.id, (student, []))[1].append((evidence, assessment, competency))
    return list(by_student.values())


def open_requests_for(session: Session, section_id: int, student_id: int,
                      competency_id: int) -> list[ReassessmentRequest]:
    """A student's open reassessment requests on one standard, oldest first."""
    return list(session.scalars(select(ReassessmentRequest).where(
        ReassessmentRequest.section_id == section_id, ReassessmentRequest.student_id == student_id,
        ReassessmentRequest.competency_id == competency_id, ReassessmentRequest.status == "open")
        .order_by(ReassessmentRequest.created_at)))


def today() -> date:
    return date.today()
