"""The use cases of the product: evidence, the proficiency cache, gradebook reads, portfolio, accounts,
policy, artifacts, comments. Each public function validates, writes, and leaves committing to the caller's
transaction. Services import models and the pure proficiency core, never `interop` or `web`."""

from sqlalchemy import Column, event, inspect
from sqlalchemy.orm import Session

from gradebook.models.base import field_label, value_problem


class ServiceError(ValueError):
    """Bad input a person can fix; the message says how. `field` names the form field when there is one."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class StaleWrite(ServiceError):
    """Someone else saved this record since it was loaded: the write is refused, nothing is lost."""

    def __init__(self, message: str, current: object = None) -> None:
        super().__init__(message)
        self.current = current


def refuse_unstorable_values(session: Session, _context: object = None, _instances: object = None) -> None:
    """Before any flush, every new or changed column value must fit its column (models.base.value_problem):
    text its length and no control characters, integers their range. Whatever wrote it (a form, an import,
    the command line), the person gets a message naming the field instead of a database error."""
    for obj in (*session.new, *session.dirty):
        state = inspect(obj)
        changed_only = obj not in session.new
        for prop in state.mapper.column_attrs:
            column = prop.columns[0]
            if not isinstance(column, Column):
                continue
            values = state.attrs[prop.key].history.added if changed_only else [state.dict.get(prop.key)]
            for value in values:
                problem = value_problem(column, value)
                if problem is not None:
                    raise ServiceError(f"The {field_label(column)} {problem}.", prop.key)


event.listen(Session, "before_flush", refuse_unstorable_values)
