"""The record across sections and years (issue 17, part 2): the record page, the overall level by the school's
rule, crosswalks followed, a fixed query count, what a new teacher sees of earlier mastery and accepts."""

from __future__ import annotations

from datetime import date

import pytest
from flask.testing import FlaskClient

from gradebook.extensions import db
from gradebook.models import AuditEvent, Evidence, EvidenceRevision, GuardianLink, School
from gradebook.services import ServiceError
from gradebook.services.record import accept_earlier_mastery, load_record
from tests.builders import make_evidence, make_user
from tests.record_builders import crosswalk, make_term, make_years, other_framework, section_in


def _rule(rule: str) -> None:
    school = db.session.query(School).one()
    school.record_rule = rule
    db.session.commit()


# ------------------------------------------------------------------ the overall level

@pytest.mark.parametrize(("rule", "expected"), [
    ("latest", 2),        # the most recent section: year 3 scored 2
    ("highest", 4),       # the best any section showed: year 2 scored 4
    ("all_evidence", 2),  # decaying average (w = 0.65) of 3, 4, 2 → 2.6 → level 2
])
def test_the_overall_level_across_sections_follows_the_school_rule(app, rule: str, expected: float) -> None:  # type: ignore[no-untyped-def]
    years = make_years(3, standards=2, scores=[3, 4, 2])
    _rule(rule)
    record = load_record(db.session, years.student)
    assert [len(t.sections) for t in record.terms] == [1, 1, 1]
    assert len(record.rows) == 2
    row = record.rows[0]
    assert [lv.level.points for lv in row.levels] == [3, 4, 2]  # type: ignore[union-attr]
    assert row.overall is not None and row.overall.points == expected


def test_a_teachers_judgement_in_a_section_is_that_sections_level(app) -> None:  # type: ignore[no-untyped-def]
    from gradebook.services.evidence import set_override

    years = make_years(2, standards=1, scores=[2, 1])
    latest = years.years[-1]
    set_override(db.session, latest.teacher, section=latest.section, student_id=years.student.id,
                 competency_id=years.standards[0].id, level_points=4, reason="Showed it in the lab.")
    db.session.commit()
    row = load_record(db.session, years.student).rows[0]
    assert row.levels[-1].override and row.overall.points == 4  # type: ignore[union-attr]


def test_the_same_standard_in_two_frameworks_is_one_row_when_crosswalked(app) -> None:  # type: ignore[no-untyped-def]
    """Grade 6 Science uses the state's framework, grade 7 the NGSS one; SCI.1.1 exactMatchOf NGSS.1.1."""
    student = make_user("student")
    state = make_years(1, standards=2, scores=[3], student=student)
    ngss = other_framework(2)
    crosswalk(state.standards[0], ngss[0])  # only the first standard matches
    later = section_in(make_term("Year 2030", 2030), ngss, [student], name="Science 7")
    make_evidence(later, student, ngss[0], 4, on=date(2026, 10, 1))
    make_evidence(later, student, ngss[1], 2, on=date(2026, 10, 1))
    rows = load_record(db.session, student).rows
    assert len(rows) == 3  # SCI.1.1 = NGSS.1.1, SCI.1.2, NGSS.1.2
    matched = next(r for r in rows if len(r.levels) == 2)
    assert matched.competency.id == ngss[0].id  # named as the most recent section names it
    assert [o.id for o in matched.others] == [state.standards[0].id]
    assert [lv.level.points for lv in matched.levels] == [3, 4]  # type: ignore[union-attr]


def test_exact_matches_chain_into_one_group_whichever_way_they_point(app) -> None:  # type: ignore[no-untyped-def]
    a, b, c = other_framework(1, "A")[0], other_framework(1, "B")[0], other_framework(1, "C")[0]
    crosswalk(a, b)
    crosswalk(c, b)  # c → b ← a
    db.session.expire_all()
    assert a.match_key == b.match_key == c.match_key == min(a.id, b.id, c.id)


def test_case_import_groups_exact_matches(app) -> None:  # type: ignore[no-untyped-def]
    import json

    from gradebook.interop.case_import import import_case
    from gradebook.models import Competency

    def package(doc: str, item: str, code: str, match: str | None) -> bytes:
        assoc = [{"identifier": f"{item}-p", "associationType": "isChildOf", "originNodeURI": {"identifier": item},
                  "destinationNodeURI": {"identifier": doc}}]
        if match:
            assoc.append({"identifier": f"{item}-m", "associationType": "exactMatchOf",
                          "originNodeURI": {"identifier": item}, "destinationNodeURI": {"identifier": match}})
        return json.dumps({"CFDocument": {"identifier": doc, "title": f"Framework {doc}"},
                           "CFItems": [{"identifier": item, "fullStatement": "Plan an investigation.",
                                        "humanCodingScheme": code}], "CFAssociations": assoc}).encode()

    admin = make_user("admin")
    import_case(db.session, package("doc-ngss", "ngss-1", "MS-PS2-2", "state-1"), actor=admin)  # target later
    import_case(db.session, package("doc-state", "state-1", "SCI.7.2", None), actor=admin)
    db.session.commit()
    ngss, state = (db.session.query(Competency).filter_by(identifier=i).one() for i in ("ngss-1", "state-1"))
    assert ngss.match_key == state.match_key


# ------------------------------------------------------------------ the page

def test_the_record_page_shows_every_section_and_the_overall_level(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    years = make_years(2, standards=2, scores=[3, 2])
    login_as(years.student)
    html = client.get(f"/students/{years.student.id}/record").get_data(as_text=True)
    assert "Your skills over the years" in html
    assert "Science 2020" in html and "Science 2021" in html and "(ended)" in html
    assert "Do skill 1 well." in html and "Overall" in html
    assert "The last column shows the level from the latest class." in html


def test_the_record_page_takes_the_same_number_of_statements_for_one_section_and_many(
        client: FlaskClient, login_as, count_queries) -> None:  # type: ignore[no-untyped-def]
    one = make_years(1, standards=2)
    many = make_years(6, standards=5)
    counts = []
    for world in (one, many):
        _rule("all_evidence")  # the rule that reads the most
        login_as(world.student)
        url = f"/students/{world.student.id}/record"
        with count_queries() as queries:
            response = client.get(url)
        assert response.status_code == 200
        counts.append(queries.count)
    assert counts[0] == counts[1], counts
    assert counts[1] <= 12, counts


def test_a_guardian_sees_the_record_in_family_words_and_it_is_audited(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    years = make_years(2, standards=1, scores=[3, 3])
    guardian = make_user("guardian")
    db.session.add(GuardianLink(guardian_id=guardian.id, student_id=years.student.id))
    db.session.commit()
    login_as(guardian)
    html = client.get(f"/students/{years.student.id}/record").get_data(as_text=True)
    assert "Maya's skills over the years" in html and "standard" not in html.lower().split("<main", 1)[1]
    assert db.session.query(AuditEvent).filter_by(action="view.record", student_id=years.student.id,
                                                  actor_id=guardian.id).count() == 1


def test_a_teacher_of_the_student_in_an_earlier_year_only_still_sees_the_record(client: FlaskClient,  # type: ignore[no-untyped-def]
                                                                               login_as) -> None:
    years = make_years(2, standards=1)
    login_as(years.years[0].teacher)
    assert client.get(f"/students/{years.student.id}/record").status_code == 200
    login_as(make_user("teacher"))
    assert client.get(f"/students/{years.student.id}/record").status_code == 404


def test_the_record_page_in_spanish(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    years = make_years(1, standards=1)
    years.student.language = "es"
    db.session.commit()
    login_as(years.student)
    html = client.get(f"/students/{years.student.id}/record").get_data(as_text=True)
    assert "Tus destrezas a lo largo de los años" in html


# ------------------------------------------------------------------ a new teacher sees earlier mastery

def _next_year(shown: float = 3, now: float | None = None):  # type: ignore[no-untyped-def]
    years = make_years(1, standards=2, scores=[shown])
    from tests.record_builders import close

    close(years.years[0].section)
    new = section_in(make_term("Year 2031", 2031), years.standards, [years.student], name="Science 8")
    if now is not None:
        make_evidence(new, years.student, years.standards[0], now, on=date(2026, 9, 10))
    return years, new


def test_the_grid_marks_what_a_student_showed_last_year(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    years, new = _next_year(shown=4, now=2)
    login_as(new.teacher)
    html = client.get(f"/sections/{new.section.id}").get_data(as_text=True)
    assert html.count('class="earlier-mark"') == 2 + 1  # two cells, and the legend
    assert "shown last year at Exceeds" in html


def test_mastery_below_the_goal_last_year_is_not_marked(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    years, new = _next_year(shown=2)
    login_as(new.teacher)
    assert client.get(f"/sections/{new.section.id}").get_data(as_text=True).count('class="earlier-mark"') == 1


def test_the_grid_budget_holds_with_earlier_years(client: FlaskClient, login_as, count_queries) -> None:  # type: ignore[no-untyped-def]
    years, new = _next_year(shown=3)
    login_as(new.teacher)
    url = f"/sections/{new.section.id}"
    with count_queries() as queries:
        assert client.get(url).status_code == 200
    assert queries.count <= 8, queries.count


def test_the_grids_cell_states_say_what_the_gradebooks_cells_say(app) -> None:  # type: ignore[no-untyped-def]
    """The grid page reads each cell's state (services.gradebook.load_grid_states) apart from the Cells the CSV
    and the exports read (load_grid): both say the same level, score, judgement, missing work and earlier mastery."""
    from gradebook.models import Override
    from gradebook.services import gradebook as read

    years, new = _next_year(shown=4, now=2)
    student, (first, second) = years.student, years.standards
    make_evidence(new, student, second, status="missing")
    db.session.add(Override(student_id=student.id, competency_id=first.id, section_id=new.section.id,
                            level_points=3, reason="Shown in the lab", created_by_id=new.teacher.id))
    db.session.commit()
    book, grid = read.load_gradebook(db.session, new.section), read.load_grid_book(db.session, new.section)
    for standard in (first, second):
        cell = book.cell(student.id, standard.id)
        expected = (cell.level.points if cell.level else None, cell.score, cell.override is not None, cell.missing,
                    cell.shown_before if cell.shown_last_year else None, cell.count > 0)
        assert grid.states.get((student.id, standard.id), read.EMPTY_STATE) == expected
    assert grid.states[(student.id, first.id)][2:5] == (True, 0, None)  # judged at mastery: no earlier mark
    assert grid.states[(student.id, second.id)][3:5] == (1, 4)  # a missing piece, and Exceeds shown last year


def test_the_cell_detail_shows_last_years_mastery_and_accepting_it_is_one_click(client: FlaskClient,  # type: ignore[no-untyped-def]
                                                                               login_as) -> None:
    years, new = _next_year(shown=3)
    student, standard, earlier = years.student, years.standards[0], years.years[0].section
    login_as(new.teacher)
    url = f"/sections/{new.section.id}/students/{student.id}/standards/{standard.id}"
    html = client.get(url).get_data(as_text=True)
    assert "Shown last year" in html and "Science 2020" in html and "Accept as evidence here" in html
    response = client.post(url + "/accept-earlier", data={"from_section_id": earlier.id},
                           headers={"HX-Request": "true"})
    assert response.status_code == 200 and "Accepted" in response.get_data(as_text=True)
    evidence = db.session.query(Evidence).filter_by(section_id=new.section.id, student_id=student.id).one()
    assert (evidence.score, evidence.recorded_by_id, evidence.carried_from_section_id) == (3, new.teacher.id, earlier.id)
    assert "Accepted from Science 2020 (Year 2020)" in evidence.feedback
    revision = db.session.query(EvidenceRevision).filter_by(evidence_id=evidence.id).one()
    assert (revision.action, revision.changed_by_id) == ("create", new.teacher.id)
    again = client.post(url + "/accept-earlier", data={"from_section_id": earlier.id})  # idempotent
    assert again.status_code == 303
    assert db.session.query(Evidence).filter_by(section_id=new.section.id, student_id=student.id).count() == 1
    grid = client.get(f"/sections/{new.section.id}").get_data(as_text=True)
    assert grid.count('class="earlier-mark"') == 1 + 1  # the accepted cell is at mastery now


def test_accepting_what_was_not_shown_at_mastery_is_refused_with_a_message(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    years, new = _next_year(shown=2)
    login_as(new.teacher)
    url = f"/sections/{new.section.id}/students/{years.student.id}/standards/{years.standards[0].id}/accept-earlier"
    response = client.post(url, data={"from_section_id": years.years[0].section.id}, headers={"HX-Request": "true"})
    assert response.status_code == 422
    assert "has not shown this standard at mastery" in response.get_data(as_text=True)
    assert client.post(url, data={}, headers={"HX-Request": "true"}).status_code == 422
    assert db.session.query(Evidence).filter_by(section_id=new.section.id).count() == 0


def test_only_a_teacher_of_the_new_section_may_accept(app) -> None:  # type: ignore[no-untyped-def]
    years, new = _next_year(shown=3)
    with pytest.raises(ServiceError):
        accept_earlier_mastery(db.session, make_user("teacher"), section=new.section, student_id=years.student.id,
                               competency_id=years.standards[0].id, from_section_id=years.years[0].section.id)


def test_each_sections_level_is_in_its_own_schools_scale(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    """A student who moved to a school with its own scale: last year's level in the old school's words, this
    year's in the new school's, each school's key shown."""
    from gradebook.models import ProficiencyScale, ScaleLevel, Section

    years = make_years(2, standards=1, scores=[3, 3])
    scale = ProficiencyScale(name="Second school's scale")
    db.session.add(scale)
    db.session.flush()
    for points, label, mastery in ((1, "Not yet", False), (2, "Nearly", False), (3, "Got it", True),
                                   (4, "Beyond", False)):
        db.session.add(ScaleLevel(scale_id=scale.id, points=points, label=label, colour="#2a6fb0",
                                  is_mastery=mastery, description=f"{label}, in the words of the second school."))
    second = School(name="Second School", default_scale_id=scale.id)
    db.session.add(second)
    db.session.flush()
    db.session.get(Section, years.years[1].section.id).school_id = second.id
    db.session.commit()

    record = load_record(db.session, years.student)
    [row] = record.rows
    assert [lv.level.label for lv in row.levels] == ["Meets", "Got it"]
    assert row.overall.label == "Got it" and row.mastered  # rule "latest": the new school's section
    login_as(years.student)
    html = client.get(f"/students/{years.student.id}/record").get_data(as_text=True)
    assert "Meets" in html and "Got it" in html
    assert "Got it, in the words of the second school." in html and "Has got it: does it right" in html
