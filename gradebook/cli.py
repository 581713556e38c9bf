"""`flask gradebook …` commands."""

from __future__ import annotations

import getpass

import click
from flask import Flask
from flask.cli import AppGroup

from gradebook.extensions import db
from gradebook.models import ROLES
from gradebook.services import ServiceError

gradebook_cli = AppGroup("gradebook", help="Gradebook administration commands.")


@gradebook_cli.command("create-user")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--password", help="Prompted for when not given.")
@click.option("--school", "school_name", help="The school (its name or id) the person belongs to; an admin given "
              "one is that school's admin, without one a district admin (every school).")
def create_user_command(email: str, name: str, role: str, password: str | None, school_name: str | None) -> None:
    """Create an account."""
    from sqlalchemy import or_, select

    from gradebook.models import School
    from gradebook.services.accounts import create_user
    from gradebook.services.schools import add_members

    school = None
    if school_name:
        school = db.session.scalar(select(School).where(or_(
            School.name == school_name, School.id == (int(school_name) if school_name.isdigit() else -1))))
        if school is None:
            raise click.ClickException(f"No school is called {school_name}.")
    if password is None:
        password = getpass.getpass("Password (at least 10 characters): ")
    try:
        user = create_user(db.session, email=email, name=name, role=role, password=password)
    except ServiceError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from error
    user.district_admin = role == "admin" and school is None
    add_members(db.session, user.id, [school.id if school else None])
    db.session.commit()
    kind = " (district admin)" if user.district_admin else f" of {school.name}" if school else ""
    click.echo(f"Created {user.role}{kind} {user.email} (id {user.id}).")


@gradebook_cli.command("seed-demo")
def seed_demo_command() -> None:
    """Build the demo school (deterministic) and print its logins. Does nothing if it is already there."""
    from gradebook.demo import DEMO_PASSWORD, seed_demo

    try:
        logins = seed_demo(db.session)
    except ServiceError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from error
    db.session.commit()
    click.echo(f"Demo school ready. Every demo account's password is: {DEMO_PASSWORD}")
    for role, email, who in logins:
        click.echo(f"  {role:<9} {email:<44} {who}")


@gradebook_cli.command("recompute")
@click.option("--section", "section_ids", type=int, multiple=True, help="Only these section ids.")
def recompute_command(section_ids: tuple[int, ...]) -> None:
    """Rebuild the proficiency cache from evidence alone, and report every row that differed."""
    from gradebook.services.proficiency import recompute

    report = recompute(db.session, section_ids or None)
    db.session.commit()
    for line in report.changed:
        click.echo(f"  changed: {line}")
    click.echo(f"Recomputed {report.rows} rows: {report.differences} differed "
               f"({report.created} missing, {len(report.changed)} changed, {report.removed} stale).")


def register_cli(app: Flask) -> None:
    from gradebook.interop import cli_backup, cli_jobs

    cli_backup.register(gradebook_cli)
    cli_jobs.register(gradebook_cli)
    try:
        from gradebook.interop import cli_imports
    except ImportError:  # the importers are not there yet
        pass
    else:
        cli_imports.register(gradebook_cli)
    app.cli.add_command(gradebook_cli)


@gradebook_cli.command("send-digests")
@click.option("--days", type=click.IntRange(1, 31), default=7, show_default=True, help="The window of news.")
@click.option("--base-url", help="Where families reach the app (default: BASE_URL).")
def send_digests_command(days: int, base_url: str | None) -> None:
    """E-mail each guardian the week's news of their children (over SMTP, or into MAIL_OUTBOX without MAIL_SERVER)."""
    from gradebook.interop.mail_out import send_digests

    try:
        report = send_digests(db.session, days=days, base_url=base_url)
    except ServiceError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from error
    db.session.commit()
    click.echo(str(report))


@gradebook_cli.command("rollover")
@click.option("--term", "term_name", required=True, help="The term that ends (its name or id).")
@click.option("--next", "next_name", required=True, help="The term that begins (found by name, else created).")
@click.option("--starts", type=click.DateTime(formats=["%Y-%m-%d"]), help="A new next term's first day.")
@click.option("--ends", type=click.DateTime(formats=["%Y-%m-%d"]), help="A new next term's last day.")
@click.option("--copy-sections", is_flag=True,
              help="Carry each section into the next term with its teachers, standards, learning path and students.")
def rollover_command(term_name: str, next_name: str, starts, ends, copy_sections: bool) -> None:  # type: ignore[no-untyped-def]
    """End a term: its sections become read-only (every row kept, pages still readable); open the next."""
    from gradebook.services.terms import find_term, rollover

    term = find_term(db.session, term_name)
    if term is None:
        raise click.ClickException(f"No term named {term_name!r}. Nothing was changed.")
    try:
        report = rollover(db.session, None, term=term, next_name=next_name,
                          next_starts=starts.date() if starts else None, next_ends=ends.date() if ends else None,
                          copy_sections=copy_sections)
    except ServiceError as error:
        db.session.rollback()
        raise click.ClickException(error.message + " Nothing was changed.") from error
    db.session.commit()
    click.echo(str(report))
