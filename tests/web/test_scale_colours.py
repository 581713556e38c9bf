"""Level colours: /scale.css is linked by the version of the colours, so a change shows on the next page (no
minute of stale samples), and a colour whose badge text would fail WCAG AA is refused with the level named."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from gradebook import proficiency as prof
from gradebook.extensions import db
from gradebook.models import ScaleLevel
from tests.builders import make_section, make_user


def _stylesheet_url(html: str) -> str:
    found = re.search(r'<link rel="stylesheet" href="(/scale\.css[^"]*)"', html)
    assert found, "every page links the level colours"
    return found.group(1).replace("&amp;", "&")


def _scale_form(**colours: str) -> dict[str, str]:
    levels = db.session.scalars(select(ScaleLevel)).all()
    data = {f"label_{lv.points:g}": lv.label for lv in levels}
    data.update({f"colour_{lv.points:g}": colours.get(f"c{lv.points:g}", lv.colour) for lv in levels})
    data.update({f"description_{lv.points:g}": lv.description for lv in levels})
    data["mastery"] = next(f"{lv.points:g}" for lv in levels if lv.is_mastery)
    return data


def test_a_page_showing_levels_links_the_colours_by_their_version_and_a_change_shows_at_once(
        client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    world = make_section(students=1, standards=1)
    admin = make_user("admin")
    login_as(world.teacher)
    before = _stylesheet_url(client.get(f"/sections/{world.section.id}").get_data(as_text=True))
    assert "v=" in before and "school=" in before
    cached = client.get(before)
    assert "immutable" in cached.headers["Cache-Control"] and "max-age=31536000" in cached.headers["Cache-Control"]

    login_as(admin)
    assert client.post("/admin/scale", data=_scale_form(c3="#1d4f91")).status_code == 303
    login_as(world.teacher)
    after = _stylesheet_url(client.get(f"/sections/{world.section.id}").get_data(as_text=True))
    assert after != before
    assert ".lv-3{background:#1d4f91;" in client.get(after).get_data(as_text=True)
    old = client.get(before)  # a page still open from before: fresh colours, and not kept
    assert ".lv-3{background:#1d4f91;" in old.get_data(as_text=True) and "no-cache" in old.headers["Cache-Control"]


def test_without_a_version_the_colours_are_revalidated_every_time(client: FlaskClient) -> None:
    first = client.get("/scale.css")
    assert "no-cache" in first.headers["Cache-Control"] and first.headers.get("ETag")
    again = client.get("/scale.css", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_the_scale_page_links_the_colours_without_a_stale_copy(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    make_section(students=1, standards=1)
    login_as(make_user("admin"))
    url = _stylesheet_url(client.get("/admin/scale").get_data(as_text=True))
    headers = client.get(url).headers["Cache-Control"]
    assert "immutable" in headers or "no-cache" in headers  # never "max-age=60" on an unversioned URL


@pytest.mark.parametrize(("colour", "ratio"), [("#777777", "4.48"), ("#2e8b57", "4.45")])
def test_a_colour_its_text_cannot_be_read_on_is_refused_naming_the_level_and_ratio(
        client: FlaskClient, login_as, colour: str, ratio: str) -> None:  # type: ignore[no-untyped-def]
    make_section(students=1, standards=1)
    login_as(make_user("admin"))
    refused = client.post("/admin/scale", data=_scale_form(c2=colour))
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "Level 2 “Approaching”" in page and f"only {ratio}" in page and "WCAG AA needs at least 4.5:1" in page
    assert db.session.scalar(select(ScaleLevel.colour).where(ScaleLevel.points == 2)) == "#b7791f"


def test_a_pale_colour_is_kept_with_dark_text_that_reads_well(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    make_section(students=1, standards=1)
    login_as(make_user("admin"))
    assert client.post("/admin/scale", data=_scale_form(c2="#ffff66")).status_code == 303
    level = prof.Level(points=2, label="Approaching", colour="#ffff66", is_mastery=False)
    assert level.text_colour == prof.scale.DARK and level.text_contrast >= prof.AA_CONTRAST


def test_every_default_level_reads_at_wcag_aa() -> None:
    for level in prof.DEFAULT_SCALE.levels:
        assert level.text_contrast >= prof.AA_CONTRAST, level.label


def test_each_schools_pages_show_its_own_scales_colours(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    """Two schools, one level coloured differently: each school's teacher gets their school's colour, by a URL
    that names the school (so a cache never gives one school's colours to the other)."""
    from gradebook.models import School
    from tests.builders import make_school

    north_school = make_school()
    south_school = School(name="South Middle", default_policy={}, default_scale_id=north_school.default_scale_id)
    db.session.add(south_school)
    db.session.commit()
    north = make_section(students=1, standards=1, name="North class", school=north_school)
    south = make_section(students=1, standards=1, name="South class", school=south_school)
    login_as(make_user("admin", school=south_school))
    assert client.post("/admin/scale", data=_scale_form(c3="#1d4f91")).status_code == 303  # South's own copy
    db.session.expire_all()
    assert db.session.get(School, south_school.id).default_scale_id != north_school.default_scale_id

    urls, sheets = {}, {}
    for key, world in (("north", north), ("south", south)):
        login_as(world.teacher)
        for name, page in (("grid", f"/sections/{world.section.id}"), ("list", "/sections")):
            urls[key, name] = url = _stylesheet_url(client.get(page).get_data(as_text=True))
            if name == "grid":
                sheets[key] = client.get(url).get_data(as_text=True)
        unversioned = client.get("/scale.css")  # a page that read no scale: the viewer's school's colours
        assert ("private" in unversioned.headers["Cache-Control"]) and \
            (".lv-3{background:#1d4f91;" in unversioned.get_data(as_text=True)) == (key == "south")
    assert ".lv-3{background:#1d4f91;" in sheets["south"]
    assert ".lv-3{background:#1d4f91;" not in sheets["north"] and ".lv-3{background:" in sheets["north"]
    assert f"school={north_school.id}" in urls["north", "grid"] and f"school={south_school.id}" in urls["south", "grid"]
    assert urls["north", "grid"] != urls["south", "grid"]
    # Another school's versioned URL is the other school's colours, kept for a year: no mixing.
    swapped = client.get(urls["north", "grid"].replace(f"school={north_school.id}", f"school={south_school.id}"))
    assert "no-cache" in swapped.headers["Cache-Control"]
