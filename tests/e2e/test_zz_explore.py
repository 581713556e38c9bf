import re
from sqlalchemy import select
from gradebook.demo import DEMO_PASSWORD, seed_demo
from gradebook.extensions import db
from gradebook.models import User
from tests.e2e.conftest import log_in

OUT = "/work/wt/shots/explore"

def test_explore(page):
    import os
    os.makedirs(OUT, exist_ok=True)
    seed_demo(db.session); db.session.commit()
    maya = db.session.scalar(select(User.id).where(User.email == "maya.johnson@students.riverside.example"))
    page.set_viewport_size({"width": 390, "height": 844})
    for who, email, url in [("student", "maya.johnson@students.riverside.example", "/portfolio"),
                            ("guardian", "sarah.johnson0@family.riverside.example", f"/family/children/{maya}")]:
        page.context.clear_cookies()
        log_in(page, email, DEMO_PASSWORD)
        page.wait_for_url(re.compile("/(portfolio|family)$"))
        page.goto(url)
        h = page.evaluate("document.documentElement.scrollHeight")
        print(who, "height", h)
        for el in page.evaluate("""() => Array.from(document.querySelectorAll('main h1, main h2, main h3, main section, main nav, main details')).map(e => [e.tagName, (e.id||'') + ' ' + (e.className||''), (e.querySelector('h2,h3,summary')||e).innerText.slice(0,40).replace(/\\n/g,' '), Math.round(e.getBoundingClientRect().top + scrollY), Math.round(e.getBoundingClientRect().height)])"""):
            print("  ", el)
        for i in range(3):
            page.screenshot(path=f"{OUT}/{who}-{i}.png", clip={"x": 0, "y": i * 844, "width": 390, "height": 844}, full_page=True)
