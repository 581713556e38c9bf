"""Extension objects, created once here and bound to the app in create_app."""

from __future__ import annotations

from contextvars import ContextVar

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from gradebook.models.base import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate(compare_type=True, render_as_batch=True)
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
babel = Babel()

# SQLite: whether this request only reads (GET, HEAD, OPTIONS). Its transactions then BEGIN DEFERRED and read
# under WAL beside other readers and a writer; every other transaction BEGINs IMMEDIATE, so a read-then-write
# queues for the write lock instead of failing with "database is locked". See `begin_writing`.
sqlite_reads_only: ContextVar[bool] = ContextVar("sqlite_reads_only", default=False)


def begin_writing() -> None:
    """A read-only request is about to write (its audit rows): on SQLite, end its reading transaction, so the
    write begins a transaction of its own, IMMEDIATE. Nothing to do in a request that writes anyway, nor on
    PostgreSQL, whose reading transaction takes no lock: the rows go into it (no COMMIT and BEGIN between)."""
    if sqlite_reads_only.get():
        if db.session.get_bind().dialect.name == "sqlite":
            db.session.commit()
        sqlite_reads_only.set(False)
