"""In a real browser: a school admin makes their school's export on the Jobs page, follows its progress and
downloads it; the page says why the backup is a district admin's and what to do instead (issue 16)."""

from __future__ import annotations

import io
import json
import re
import zipfile

from gradebook.demo import seed_demo
from gradebook.extensions import db
from gradebook.interop import queue
from gradebook.models import School
from tests.builders import PASSWORD, make_user
from tests.e2e.conftest import log_in, screenshot


def test_a_school_admin_exports_their_school_from_the_jobs_page(page, live_app) -> None:  # type: ignore[no-untyped-def]
    seed_demo(db.session)
    db.session.commit()
    school = db.session.query(School).order_by(School.id).first()
    admin = make_user("admin", school=school)
    log_in(page, admin.email, PASSWORD)
    page.goto("/admin/imports")
    assert f"You import for {school.name}" in page.locator("main").inner_text()
    screenshot(page, "school-admin-imports")
    page.goto("/admin/jobs")
    main = page.locator("main")
    assert "a district admin makes it" in main.inner_text() and "your school's data away" in main.inner_text()
    assert page.get_by_role("button", name="Make a backup").count() == 0
    page.get_by_role("button", name="Make the export").click()
    page.wait_for_url(re.compile(r"/admin/jobs/\d+$"))
    db.session.rollback()  # end the test's reading transaction: the job's row is committed
    queue.run(live_app, int(page.url.rsplit("/", 1)[1]))  # what the worker process does (none runs here)
    link = page.get_by_role("link", name=re.compile("Download gradebook-school-"))
    link.wait_for(timeout=20_000)
    assert school.name in main.inner_text()
    with page.expect_download() as info:
        link.click()
    archive = zipfile.ZipFile(io.BytesIO(info.value.path().read_bytes()))
    manifest = json.loads(archive.read("manifest.json"))
    assert [s["name"] for s in manifest["scope"]["schools"]] == [school.name]
    page.goto("/admin/jobs")
    screenshot(page, "school-admin-jobs")
    assert not page.js_errors
