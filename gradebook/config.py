"""Settings from the environment, with safe defaults for a laptop."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key(instance_path: Path) -> str:
    """Use SECRET_KEY from the environment, or a random one kept in instance/ so sessions survive restarts."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    key_file.write_text(key)
    return key


def normalise_database_url(url: str) -> str:
    """Accept the usual postgres:// spellings and point them at psycopg 3."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def from_environment(instance_path: Path) -> dict:
    production = _bool("GRADEBOOK_PRODUCTION")
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance_path / 'gradebook.sqlite'}"
    return {
        "SECRET_KEY": _secret_key(instance_path),
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(database_url),
        # No ping on every checkout (a round trip per request): a pooled connection idle for longer than this
        # is pinged before use and replaced if the server dropped it (see gradebook/__init__.py).
        "SQLALCHEMY_ENGINE_OPTIONS": {},
        "DATABASE_PING_AFTER_IDLE_SECONDS": float(os.environ.get("DATABASE_PING_AFTER_IDLE_SECONDS", "10")),
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_HEADERS_ENABLED": True,
        "RATELIMIT_STRATEGY": os.environ.get("RATELIMIT_STRATEGY", "moving-window"),
        # Wrong passwords allowed per account (whatever the address) and, higher, per client address.
        "LOGIN_RATE_LIMIT": os.environ.get("LOGIN_RATE_LIMIT", "10 per 15 minutes"),
        "LOGIN_ADDRESS_RATE_LIMIT": os.environ.get("LOGIN_ADDRESS_RATE_LIMIT", "100 per 15 minutes"),
        # How many proxies in front of the app append to X-Forwarded-For/-Proto; 0 trusts no such header.
        "TRUSTED_PROXY_HOPS": int(os.environ.get("TRUSTED_PROXY_HOPS", "0")),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": production,
        # "Keep me logged in" lasts this long; the server refuses an older login whatever the cookie says.
        "REMEMBER_COOKIE_DURATION": timedelta(days=int(os.environ.get("REMEMBER_ME_DAYS", "14"))),
        "PREFERRED_URL_SCHEME": "https" if production else "http",
        "WTF_CSRF_TIME_LIMIT": None,
        "MAX_CONTENT_LENGTH": int(os.environ.get("MAX_UPLOAD_MB", "20")) * 1024 * 1024,
        "UPLOAD_FOLDER": os.environ.get("UPLOAD_FOLDER", str(instance_path / "uploads")),
        "STALE_EVIDENCE_DAYS": int(os.environ.get("STALE_EVIDENCE_DAYS", "120")),
        "PRODUCTION": production,
        # The language the school's own data (standards, scale labels, descriptors) is written in.
        "SCHOOL_LANGUAGE": os.environ.get("SCHOOL_LANGUAGE", "en"),
        "BABEL_DEFAULT_LOCALE": "en",
        "BABEL_TRANSLATION_DIRECTORIES": str(ROOT / "translations"),
        # E-mail (digests to families, set-password links): over SMTP when MAIL_SERVER is set, else .eml files
        # in MAIL_OUTBOX. See gradebook/services/mail.py.
        "MAIL_SERVER": os.environ.get("MAIL_SERVER") or None,
        "MAIL_PORT": int(os.environ.get("MAIL_PORT", "25")),
        "MAIL_USE_TLS": _bool("MAIL_USE_TLS"),
        "MAIL_USE_SSL": _bool("MAIL_USE_SSL"),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD") or None,
        "MAIL_DEFAULT_SENDER": os.environ.get("MAIL_DEFAULT_SENDER", "Gradebook <no-reply@gradebook.invalid>"),
        "MAIL_TIMEOUT": float(os.environ.get("MAIL_TIMEOUT", "30")),
        "MAIL_OUTBOX": os.environ.get("MAIL_OUTBOX", str(instance_path / "outbox")),
        # The address families reach the app at, for links in e-mails sent outside a request (digests).
        "BASE_URL": os.environ.get("BASE_URL") or None,
        # The job queue (Huey): redis://… in production, shared by every web worker and queue worker; by
        # default its SQLite storage in instance/ (one machine, no Redis). memory:// only for tests.
        "JOB_QUEUE_URL": os.environ.get("JOB_QUEUE_URL") or f"sqlite:///{instance_path / 'job-queue.sqlite'}",
        # A running job's worker beats every JOB_HEARTBEAT_SECONDS; one silent for JOB_LEASE_SECONDS is dead
        # (on the same host a dead worker process is seen at once). Its job is run again up to
        # JOB_MAX_ATTEMPTS times in all, then marked failed.
        "JOB_HEARTBEAT_SECONDS": float(os.environ.get("JOB_HEARTBEAT_SECONDS", "5")),
        "JOB_LEASE_SECONDS": float(os.environ.get("JOB_LEASE_SECONDS", "30")),
        "JOB_MAX_ATTEMPTS": int(os.environ.get("JOB_MAX_ATTEMPTS", "2")),
        "JOBS_IMMEDIATE": _bool("JOBS_IMMEDIATE"),  # run each job inside the request that queues it (tests)
    }
