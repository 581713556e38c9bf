"""Bad input of any kind, on every POST route, never gives a 500, and a refused request changes no row.

Generated, not listed: the routes come from `app.url_map`, the role from tests/web/test_access.py's table (one
role allowed to use the route), the fields from the route's forms: the names in every HTML form that posts to
it (with their values as the page fills them) and every name the view reads from the request (recorded while
it runs, until no new name turns up). A new route, or a new field, is fuzzed without anyone listing it.

For each field: a NUL, 10,000 characters, 2^63, the field missing, the field twice (the same value and another), and hypothesis-generated
bad values (empty, huge, control characters, unicode, huge and negative numbers, impossible dates, wrong
types). After a refused (4xx) request every table holds the same rows as before; after an accepted NUL or
10,000 characters no table holds text its column cannot (which SQLite would keep silently). A few examples per field keep CI fast; set
FUZZ_EXAMPLES=50 (say) for a longer, randomised run.
"""

from __future__ import annotations

import os
from datetime import date
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask, request
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import String, select, text
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import IntegerConverter

from gradebook import create_app
from gradebook.extensions import db
from tests.conftest import login
from tests.web.test_access import ACCESS, ALLOWED, World, _build, world  # noqa: F401  (world is a fixture)

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "3"))
# Who fuzzes a route: the first of these its access rule allows.
ROLE_PREFERENCE = ("anonymous", "teacher", "admin", "student", "guardian")  # a public route as the public

HUGE_NUMBERS = [str(2**31), str(2**63), "9" * 30, "-1", "-" + "9" * 20, "1e309", "-1e309", "nan", "inf", "-0",
                "1.5", "0x10", "1_000", "٣", "²", "+7"]
IMPOSSIBLE_DATES = ["2026-02-30", "0000-00-00", "9999-12-31", "99999-01-01", "2026-13-01", "1899-12-31",
                    "yesterday", "2026-10-05T25:00"]
ODD_TEXT = ["", " ", "\x00", "a\x00b", "\x1b[31m", "\x7f", "\u0085", "\u202egnp.exe", "😀" * 50, "漢字", "A\u0301",
            "\r\n", "\t", "\n\n\n", "null", "[]", "{}", "true", "<script>alert(1)</script>", "' OR 1=1 --",
            "=HYPERLINK(\"http://evil.example\",\"x\")", "x" * 300, "x" * 100_000]
BAD_VALUES = st.one_of(
    st.sampled_from(ODD_TEXT),
    st.sampled_from(HUGE_NUMBERS),
    st.sampled_from(IMPOSSIBLE_DATES),
    st.text(max_size=40),  # any unicode, control characters included
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.floats().map(str),
)


# ---------------------------------------------------------------- the routes, from the url_map

def _post_routes() -> list[str]:
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "TESTING": True, "SECRET_KEY": "routes"})
    return sorted({rule.endpoint for rule in app.url_map.iter_rules() if "POST" in (rule.methods or ())})


def _role_for(endpoint: str) -> str:
    allowed = ALLOWED[ACCESS[endpoint]]
    return next(role for role in ROLE_PREFERENCE if role in allowed)


# ---------------------------------------------------------------- the fields, from the forms

class _Forms(HTMLParser):
    """The POST forms of a page: action → {field name: the value the page fills in}."""

    def __init__(self, page_url: str) -> None:
        super().__init__()
        self.page_url = page_url
        self.forms: dict[str, dict[str, str]] = {}
        self._current: dict[str, str] | None = None
        self._select: str | None = None
        self._first_option = False
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            if a.get("method", "get").lower() == "post":
                action = urlsplit(a.get("action") or self.page_url).path
                self._current = self.forms.setdefault(action, {})
            return
        if self._current is not None and tag == "option" and self._select:
            if self._first_option or "selected" in a:  # the first option, unless another is selected
                self._current[self._select] = a.get("value", "")
            self._first_option = False
            return
        if self._current is None or not a.get("name"):
            return
        name = a["name"]
        if tag == "input":
            kind = a.get("type", "text").lower()
            if kind in ("checkbox", "radio"):  # the checked one, else the first: a form a person could send
                if "checked" in a or name not in self._current:
                    self._current[name] = a.get("value", "on")
            elif kind != "submit" or name not in self._current:
                self._current.setdefault(name, a.get("value", ""))
        elif tag == "select":
            self._select = name
            self._first_option = True
        elif tag == "textarea":
            self._textarea = name
            self._current.setdefault(name, "")
        elif tag == "button":
            self._current.setdefault(name, a.get("value", ""))

    def handle_data(self, data: str) -> None:
        if self._current is not None and self._textarea:
            text = self._current[self._textarea] + data
            self._current[self._textarea] = text[1:] if text.startswith("\n") else text  # as browsers do

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)


def _forms_on_the_way(app: Flask, client: FlaskClient, url: str) -> dict[str, str]:
    """Fields (and the values the page gives them) of every form posting to `url`, found on the GET pages at
    `url` and above it (the entry page holds the fill form of /…/assessments/1/fill)."""
    adapter = app.url_map.bind("localhost")
    parts = url.rstrip("/").split("/")
    fields: dict[str, str] = {}
    for end in range(len(parts), 1, -1):
        page = "/".join(parts[:end])
        try:
            adapter.match(page, method="GET")
        except (NotFound, MethodNotAllowed):
            continue
        except Exception:  # noqa: BLE001  (a redirect rule: not a page with forms)
            continue
        response = client.get(page)
        if response.status_code != 200 or "html" not in (response.content_type or ""):
            continue
        parser = _Forms(page)
        parser.feed(response.get_data(as_text=True))
        fields = {**parser.forms.get(url, {}), **fields}
    return fields


class _Reads:
    """Every name a view reads from the request's form or query (get, getlist, [], in)."""

    def __init__(self, app: Flask, monkeypatch: pytest.MonkeyPatch, *, query_only: bool = False) -> None:
        self.names: set[str] = set()
        names = self.names
        storage = app.request_class.parameter_storage_class

        def wrap(method: Any) -> Any:
            def recorded(self: Any, key: Any, *args: Any, **kwargs: Any) -> Any:
                if isinstance(key, str) and (not query_only or self is request.args):
                    names.add(key)
                return method(self, key, *args, **kwargs)
            return recorded

        for attribute in ("get", "getlist", "__getitem__", "__contains__"):
            monkeypatch.setattr(storage, attribute, wrap(getattr(storage, attribute)))


def _plausible(name: str, value: str, text: str = "Fuzz 1") -> str:
    """A value a person might type in an empty field, so that the form as a whole is valid and one bad field
    reaches the code that writes (an empty required title would stop every request before it)."""
    if value.strip() or name == "csrf_token":
        return value
    if "email" in name:
        return "fuzz@example.org"
    if name.endswith("_on") or "date" in name:
        return date.today().isoformat()
    if "password" in name or name == "confirm":
        return "a long enough passphrase"
    return text


def _fields(app: Flask, client: FlaskClient, url: str, reads: _Reads) -> dict[str, str]:
    """The route's fields with a baseline value each: what its forms fill in (an empty one gets a plausible
    value), else "1"; then whatever else the view reads once it has those, until nothing new turns up."""
    as_the_page_fills_it = _forms_on_the_way(app, client, url)
    baseline = as_the_page_fills_it
    for candidate in (as_the_page_fills_it, *({k: _plausible(k, v, typed) for k, v in as_the_page_fills_it.items()}
                                              for typed in ("Fuzz 1", "1"))):
        baseline = candidate
        if _discover(client, url, candidate) < 400:
            break  # a form that is accepted as it stands: each bad field alone is what the fuzz changes
    seen: set[str] = set()
    for _ in range(4):
        reads.names.clear()
        _discover(client, url, baseline)
        new = reads.names - set(baseline) - seen
        seen |= reads.names
        if not new:
            break
        baseline |= {name: "1" for name in new}
    return baseline


def _discover(client: FlaskClient, url: str, data: dict[str, str]) -> int:
    """A post that only finds names and a form that is accepted (it may write: the fuzz starts after it)."""
    status = client.post(url, data=dict(data)).status_code
    db.session.rollback()
    return status


# ---------------------------------------------------------------- every row of every table

def _snapshot() -> dict[str, tuple[int, Any]]:
    """Per table: how many rows, and all of them (on PostgreSQL a digest of them, in one round trip)."""
    db.session.rollback()
    tables = db.metadata.sorted_tables
    # A refused page still shows the record it re-renders: the audit log keeps that disclosure.
    keep = {"audit_log": "WHERE t.action NOT LIKE 'view.%'"}
    if db.engine.dialect.name == "postgresql":
        parts = [f"(SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') "
                 f'FROM "{t.name}" t {keep.get(t.name, "")})' for t in tables]
        digests = db.session.execute(text("SELECT " + ", ".join(parts))).one()
        return {t.name: (int(d.split(":")[0]), d) for t, d in zip(tables, digests, strict=True)}
    out = {}
    for table in tables:
        query = select(table).order_by(*table.primary_key.columns)
        if table.name == "audit_log":
            query = query.where(~table.c.action.startswith("view."))
        rows = [tuple(row) for row in db.session.execute(query).all()]
        out[table.name] = (len(rows), rows)
    return out


def _changes(before: dict[str, tuple[int, Any]], after: dict[str, tuple[int, Any]]) -> list[str]:
    return [f"{name}: {before[name][0]} rows → {after[name][0]}" if before[name][0] != after[name][0]
            else f"{name}: a row changed" for name in before if before[name] != after[name]]


# ---------------------------------------------------------------- the fuzz

class _Tables:
    """The rows before each request; after a refusal that changed nothing they are also the rows before the next."""

    def __init__(self) -> None:
        self.known: dict[str, list[tuple[Any, ...]]] | None = None

    def send(self, client: FlaskClient, url: str, data: Any, *, check_stored: bool = False) -> tuple[int, list[str]]:
        """Post; a refusal's changes to any table, or (`check_stored`) any stored text the columns cannot hold."""
        before = self.known if self.known is not None else _snapshot()
        status = client.post(url, data=data).status_code
        self.known = None
        if not 400 <= status < 500:
            return status, _unstorable(_snapshot()) if check_stored else []
        after = _snapshot()
        self.known = after
        return status, _changes(before, after)


def _unstorable(tables: dict[str, tuple[int, Any]]) -> list[str]:
    """Text that got in although its column cannot hold it: a NUL, or more characters than String(length).
    SQLite keeps both silently (PostgreSQL refuses them: a 500, which the fuzz reports on its own); a school
    holding them cannot be moved to PostgreSQL."""
    found = []
    for table in db.metadata.sorted_tables:
        rows = tables[table.name][1]
        if not isinstance(rows, list):
            continue
        for column, index in ((c, i) for i, c in enumerate(table.columns) if isinstance(c.type, String)):
            for row in rows:
                value = row[index]
                if isinstance(value, str) and ("\x00" in value or (column.type.length or 10**9) < len(value)):
                    found.append(f"stored in {table.name}.{column.name}: {value[:20]!r}… ({len(value)} characters)")
    return found


def _problem(endpoint: str, field: str, value: Any, status: int, changed: list[str]) -> str | None:
    shown = repr(value)[:60]
    if status >= 500:
        return f"{endpoint} {field}={shown}: {status}"
    if changed:
        return f"{endpoint} {field}={shown}: {status}, {changed}"
    return None


def _fuzz_field(client: FlaskClient, tables: _Tables, url: str, endpoint: str, baseline: dict[str, str],
                field: str) -> str | None:
    """Hypothesis-generated bad values for one field (the rest as the form fills them); the first problem."""

    @settings(max_examples=EXAMPLES, derandomize="FUZZ_EXAMPLES" not in os.environ, database=None,
              deadline=None, suppress_health_check=list(HealthCheck))
    @given(value=BAD_VALUES)
    def fuzz(value: str) -> None:
        status, changed = tables.send(client, url, baseline | {field: value})
        problem = _problem(endpoint, field, value, status, changed)
        assert problem is None, problem

    try:
        fuzz()
    except AssertionError as failure:
        return str(failure).splitlines()[0]
    return None


@pytest.mark.parametrize("endpoint", _post_routes())
def test_bad_input_to_any_field_gets_a_4xx_or_is_accepted_and_a_refusal_writes_nothing(
        app: Flask, world: World, endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    role = _role_for(endpoint)
    client = app.test_client()
    if role != "anonymous":
        login(client, world.users[role])
    url = _build(app, endpoint, world.params)
    reads = _Reads(app, monkeypatch)
    baseline = _fields(app, client, url, reads)
    problems: list[str] = []
    tables = _Tables()

    for field in sorted(baseline):
        for label, data in (("NUL", baseline | {field: "a\x00b"}),
                            ("10,000 characters", baseline | {field: "x" * 10_000}),
                            ("2^63", baseline | {field: str(2**63)}),
                            ("missing", {k: v for k, v in baseline.items() if k != field}),
                            ("twice", baseline | {field: [baseline[field], baseline[field]]}),
                            ("twice, differently", baseline | {field: [baseline[field], "2"]})):
            status, changed = tables.send(client, url, data, check_stored=label in ("NUL", "10,000 characters"))
            if problem := _problem(endpoint, field, label, status, changed):
                problems.append(problem)

        if problem := _fuzz_field(client, tables, url, endpoint, baseline, field):
            problems.append(problem)

    assert problems == []


def _get_routes() -> list[str]:
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "TESTING": True, "SECRET_KEY": "routes"})
    return sorted({rule.endpoint for rule in app.url_map.iter_rules() if "GET" in (rule.methods or ())
                   and rule.endpoint != "static"})


@pytest.mark.parametrize("endpoint", _get_routes())
def test_a_nul_in_any_query_argument_a_page_reads_is_refused(app: Flask, world: World, endpoint: str,  # noqa: F811
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    role = _role_for(endpoint)
    client = app.test_client()
    if role != "anonymous":
        login(client, world.users[role])
    url = _build(app, endpoint, world.params)
    reads = _Reads(app, monkeypatch, query_only=True)
    client.get(url)
    statuses = {name: client.get(url, query_string={name: "a\x00b"}).status_code for name in sorted(reads.names)}
    assert {name: status for name, status in statuses.items() if not 400 <= status < 500} == {}


# ---------------------------------------------------------------- every id in a URL

@pytest.mark.parametrize("number", [2**63, 10**30, 2**31, 0])
def test_every_int_in_a_url_answers_404_for_a_number_no_row_can_have(app: Flask, world: World,  # noqa: F811
                                                                       number: int) -> None:
    client = app.test_client()
    login(client, world.users["admin"])
    failures = []
    for rule in app.url_map.iter_rules():
        ints = [name for name, converter in rule._converters.items() if isinstance(converter, IntegerConverter)]
        for name in ints:
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                path = rule.rule
                for arg in rule.arguments:
                    shown = str(number) if arg == name else str(world.params[arg])
                    path = path.replace(f"<int:{arg}>", shown).replace(f"<{arg}>", shown)
                status = client.open(path, method=method, data={}).status_code
                if status != 404:
                    failures.append(f"{method} {path}: {status}")
    assert failures == []

