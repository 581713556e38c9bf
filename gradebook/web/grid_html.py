"""The mastery grid's body rows, written in Python rather than looped over in Jinja: 1,400 cells a page, where a
template escapes five values a cell. Here every value is escaped once where it first appears (a student's name
once a row, a standard's code once a column, what a cell in a given state shows once per state, see
`services.gradebook.grid_cell`) and each cell is then a handful of already-escaped pieces joined. The markup is
what `_grid.html` wrote cell by cell before (the same classes, links, titles and marks)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from markupsafe import Markup, escape

from gradebook import proficiency as prof
from gradebook.services.gradebook import GridState, grid_cell
from gradebook.services.habits import HabitCell, HabitColumn

_NO_HABIT = HabitCell()


def _text(value: Any) -> str:
    return str(escape(value))


def grid_body(rows: Sequence[tuple[int, str, Sequence[GridState]]], standards: Sequence[Any],
              habits: Sequence[HabitColumn], habit_cells: dict[tuple[int, int], HabitCell], scale: prof.Scale,
              urls: dict[str, str]) -> Markup:
    """The <tr> rows of the grid's <tbody>: `rows` from `services.gradebook.grid_rows`, `standards` their
    columns, then the habit columns; `urls` the links' prefixes (`_grid_urls` in web.gradebook)."""
    student_url, cell_url, middle = _text(urls["student_url"]), _text(urls["cell_url"]), _text(urls["cell_url_middle"])
    habit_url, habit_middle = _text(urls["habit_url"]), _text(urls["habit_url_middle"])
    # Per column: the end of the cell's link and the start of its title, and the title's standard part.
    columns = [(f'{int(s.id)}" title="', f" · {_text(s.code)}: ") for s in standards]
    shown: dict[GridState, tuple[str, str]] = {}  # a state's (start of the cell, end of the cell)

    def cell_parts(state: GridState) -> tuple[str, str]:
        cell = grid_cell(scale, state)
        head = f'\n        <td class="cell {_text(cell.css)}"><a href="'
        tail = [_text(cell.title), '">']
        if cell.symbol is not None:
            tail.append(f'<span aria-hidden="true">{_text(cell.symbol)}</span>')
        tail.append(_text(cell.text))
        if cell.override:
            tail.append('<span class="mark-override">✎</span>')
        if cell.missing:
            tail.append('<span class="missing-mark">M</span>')
        if cell.earlier:
            tail.append('<span class="earlier-mark" aria-hidden="true">↺</span>')
        tail.append("</a></td>")
        parts = shown[state] = (head, "".join(tail))
        return parts

    habit_columns = [(h.id, f"{int(h.id)}" + '" title="',
                      f" · {_text(h.competency.short_name or h.competency.statement)} (habit): ",
                      " habit-first" if first else "") for first, h in ((i == 0, h) for i, h in enumerate(habits))]
    habit_shown: dict[tuple[Any, ...], tuple[str, str]] = {}

    def habit_parts(cell: HabitCell, first: str) -> tuple[str, str]:
        key = (cell.css, cell.level, cell.missing, cell.late, first)
        parts = habit_shown.get(key)
        if parts is not None:
            return parts
        level = cell.level
        head = f'\n        <td class="cell habit-cell {_text(cell.css)}{first}"><a href="'
        tail = [_text(level.label if level else "not seen yet")]
        if cell.missing:
            tail.append(f"; {_text(cell.missing)} missing")
        if cell.late:
            tail.append(f"; {_text(cell.late)} late")
        tail.append('">')
        tail.append(f'<span aria-hidden="true">{_text(level.symbol)}</span>{_text(level.label[:1])}' if level else "·")
        if cell.missing:
            tail.append('<span class="missing-mark">M</span>')
        if cell.late:
            tail.append('<span class="missing-mark late-mark">L</span>')
        tail.append("</a></td>")
        parts = habit_shown[key] = (head, "".join(tail))
        return parts

    out: list[str] = []
    add, extend = out.append, out.extend
    for student_id, student_name, states in rows:
        sid, name = int(student_id), _text(student_name)
        add(f'\n      <tr>\n        <th scope="row" class="student-col"><a href="{student_url}{sid}" '
            f'hx-boost="false">{name}</a></th>')
        row_url = f"{cell_url}{sid}{middle}"
        for (link_end, code), state in zip(columns, states, strict=True):
            head, tail = shown.get(state) or cell_parts(state)
            extend((head, row_url, link_end, name, code, tail))
        if habit_columns:
            habit_row_url = f"{habit_url}{sid}{habit_middle}"
            for habit_id, link_end, habit_name, first in habit_columns:
                head, tail = habit_parts(habit_cells.get((sid, habit_id)) or _NO_HABIT, first)
                extend((head, habit_row_url, link_end, name, habit_name, tail))
        add("\n      </tr>")
    return Markup("".join(out))  # noqa: S704 - every value above went through escape()
