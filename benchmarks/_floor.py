"""The grid's floor: the same cells by raw SQL and a plain Jinja table, as a bare WSGI app that gunicorn serves
beside the real one (benchmarks/gradebook.py). No Flask, no ORM, no login, no audit: what the grid page
cannot do with less. `GET /<section id>` answers the table of that section's cells (the same class, link,
title, symbol and score text per cell as the real grid)."""

from __future__ import annotations

import os
from typing import Any

from jinja2 import Environment
from sqlalchemy import create_engine, text

from gradebook.config import normalise_database_url
from gradebook.proficiency import DEFAULT_SCALE

TEMPLATE = Environment(autoescape=True).from_string("""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>floor</title></head><body>
<table class="mastery-grid"><thead><tr><th>Student</th>
{%- for id, code, short in standards %}<th title="{{ short }}">{{ code }}</th>{% endfor %}</tr></thead><tbody>
{%- for sid, name, cells in rows %}
<tr><th><a href="/sections/{{ section }}/students/{{ sid }}">{{ name }}</a></th>
{%- for css, cid, title, symbol, shown in cells %}
<td class="cell {{ css }}"><a href="/sections/{{ section }}/students/{{ sid }}/standards/{{ cid }}" title="{{ title }}">
{%- if symbol %}<span aria-hidden="true">{{ symbol }}</span>{% endif %}{{ shown }}</a></td>
{%- endfor %}</tr>
{%- endfor %}
</tbody></table></body></html>""")

_engine: Any = None


def _cells(section: int) -> dict[str, Any]:
    global _engine
    if _engine is None:
        _engine = create_engine(normalise_database_url(os.environ["DATABASE_URL"]))
    with _engine.connect() as conn:
        students = conn.execute(text(
            "SELECT u.id, u.name FROM users u JOIN enrollments e ON e.student_id = u.id "
            "WHERE e.section_id = :s AND e.active ORDER BY u.name"), {"s": section}).all()
        standards = conn.execute(text(
            "SELECT c.id, c.code, c.short_name FROM section_standards ss JOIN competencies c ON c.id = ss.competency_id "
            "WHERE ss.section_id = :s ORDER BY ss.position"), {"s": section}).all()
        records = {(r[0], r[1]): (r[2], r[3]) for r in conn.execute(text(
            "SELECT student_id, competency_id, score, evidence_count FROM proficiency_records "
            "WHERE section_id = :s"), {"s": section})}
    levels = sorted(DEFAULT_SCALE.levels, key=lambda lv: -lv.points)
    rows = []
    for sid, name in students:
        cells = []
        for cid, code, _short in standards:
            score, count = records.get((sid, cid), (None, 0))
            level = next((lv for lv in levels if score is not None and round(score, 2) >= lv.points), None) \
                if score is not None else None
            if level is None and score is not None:
                level = levels[-1]
            if level is None:
                cells.append(("lv-none", cid, f"{name} · {code}: " + ("not enough evidence yet" if count else "no evidence yet"),
                              None, "·"))
            else:
                cells.append((f"lv-{level.points:g}", cid, f"{name} · {code}: {level.label} ({score:.2f})",
                              level.symbol, f"{score:.1f}"))
        rows.append((sid, name, cells))
    return {"section": section, "standards": standards, "rows": rows}


def app(environ: dict, start_response: Any) -> list[bytes]:
    section = int(environ.get("PATH_INFO", "/").strip("/") or 0)
    body = TEMPLATE.render(**_cells(section)).encode()
    start_response("200 OK", [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body)))])
    return [body]
