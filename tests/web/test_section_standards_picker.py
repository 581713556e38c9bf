"""The admin's section page picks standards by framework (collapsed, loaded when opened, a page at a time)
or by a search the server answers: after a big import the page stays small, and saving changes only what the
page showed."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy import insert, select

from gradebook.extensions import db
from gradebook.models import Competency, Framework, SectionStandard
from tests.builders import make_section, make_user

HTMX = {"HX-Request": "true"}
PAGE_BOUND = 60_000  # bytes: the whole page, whatever the number of standards imported


def _big_framework(title: str, leaves: int, code: str) -> list[int]:
    """A framework of `leaves` standards under 10 groups, inserted in bulk (as an import leaves it)."""
    framework = Framework(title=title, source="csv")
    db.session.add(framework)
    db.session.flush()
    groups = [Competency(framework_id=framework.id, code=f"{code}.{g}", statement=f"Group {g}", position=g)
              for g in range(10)]
    db.session.add_all(groups)
    db.session.flush()
    db.session.execute(insert(Competency), [
        {"framework_id": framework.id, "parent_id": groups[i % 10].id, "code": f"{code}.{i % 10}.{i}",
         "statement": f"Standard number {i} of {title}", "position": i} for i in range(leaves)])
    db.session.commit()
    return list(db.session.scalars(select(Competency.id).where(Competency.framework_id == framework.id,
                                                               Competency.parent_id.is_not(None))
                                   .order_by(Competency.position)))


def _chosen(section_id: int) -> set[int]:
    return set(db.session.scalars(select(SectionStandard.competency_id).where(SectionStandard.section_id == section_id)))


def test_after_a_big_import_the_section_page_stays_small(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    world = make_section(students=1, standards=2)
    for n, code in enumerate(("MA", "EL", "SC")):
        _big_framework(f"Big framework {n}", 1500, code)
    login_as(make_user("admin"))
    page = client.get(f"/admin/sections/{world.section.id}").get_data(as_text=True)
    assert len(page.encode()) < PAGE_BOUND, len(page.encode())
    print("section page bytes with 4,500 standards imported:", len(page.encode()))
    assert page.count('name="standards"') == 2  # only the chosen ones: no framework is open
    assert page.count('<details class="framework-pick"') == 4 and "1500 standards" in page


def test_opening_a_framework_loads_a_page_of_its_standards_and_offers_the_next(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    world = make_section(students=1, standards=1)
    ids = _big_framework("Mathematics", 450, "MA")
    framework_id = db.session.scalar(select(Framework.id).where(Framework.title == "Mathematics"))
    login_as(make_user("admin"))
    url = f"/admin/sections/{world.section.id}/standards?framework={framework_id}"
    first = client.get(url, headers=HTMX).get_data(as_text=True)
    assert first.count('name="standards"') == 200 and f'value="{ids[0]}"' in first and "<nav" not in first
    assert "offset=200" in first and "Show the next 200" in first
    last = client.get(url + "&offset=400", headers=HTMX).get_data(as_text=True)
    assert last.count('name="standards"') == 50 and "Show the next" not in last
    # Without JavaScript the link opens the framework on the page itself.
    whole = client.get(f"/admin/sections/{world.section.id}?framework={framework_id}").get_data(as_text=True)
    assert whole.count('name="standards"') == 1 + 200 and f'id="fw-{framework_id}" open' in whole


def test_a_search_finds_standards_by_code_or_words_and_is_bounded(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    world = make_section(students=1, standards=1)
    _big_framework("Mathematics", 300, "MA")
    login_as(make_user("admin"))
    url = f"/admin/sections/{world.section.id}/standards"
    one = client.get(url, query_string={"q": "MA.3.293"}, headers=HTMX).get_data(as_text=True)
    assert one.count('name="standards"') == 1 and "Standard number 293 of Mathematics" in one
    many = client.get(url, query_string={"q": "standard mathematics"}, headers=HTMX).get_data(as_text=True)
    assert many.count('name="standards"') == 50 and "add words to narrow it" in many
    none = client.get(url, query_string={"q": "100%_"}, headers=HTMX).get_data(as_text=True)
    assert 'name="standards"' not in none and "No standard not chosen yet matches" in none


def test_saving_changes_only_the_standards_the_page_showed(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    world = make_section(students=1, standards=3)
    keep, drop, untouched = (s.id for s in world.standards)
    ids = _big_framework("Mathematics", 20, "MA")
    login_as(make_user("admin"))
    # The page showed `keep` and `drop` (chosen) and two of the new framework's; `untouched` was not on it.
    response = client.post(f"/admin/sections/{world.section.id}", data={
        "action": "standards", "standards": [keep, ids[3]], "shown": [keep, drop, ids[3], ids[4]]})
    assert response.status_code == 303
    assert _chosen(world.section.id) == {keep, untouched, ids[3]}
    flashed = client.get(response.location).get_data(as_text=True)
    assert "3 standards chosen; levels recomputed." in flashed


def test_a_group_of_standards_cannot_be_chosen(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    world = make_section(students=1, standards=1)
    _big_framework("Mathematics", 20, "MA")
    group = db.session.scalar(select(Competency.id).where(Competency.code == "MA.0"))
    login_as(make_user("admin"))
    client.post(f"/admin/sections/{world.section.id}", data={"action": "standards", "standards": [group],
                                                             "shown": [group]})
    assert group not in _chosen(world.section.id)


def test_the_page_lists_the_chosen_standards_first_with_their_framework(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    world = make_section(students=1, standards=2)
    login_as(make_user("admin"))
    page = client.get(f"/admin/sections/{world.section.id}").get_data(as_text=True)
    chosen = re.search(r'<ul class="plain checklist-plain" id="chosen-standards">(.*?)</ul>', page, re.S)
    assert chosen and chosen.group(1).count("checked") == 2 and "SCI framework" in chosen.group(1)
