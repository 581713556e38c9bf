"""The use cases of the product: evidence, the proficiency cache, gradebook reads, portfolio, accounts,
policy, artifacts, comments. Each public function validates, writes, and leaves committing to the caller's
transaction. Services import models and the pure proficiency core, never `interop` or `web`."""

from functools import cache
from typing import Any

from sqlalchemy import Column, Float, Integer, String, event, inspect
from sqlalchemy.orm import Mapper, Session

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
    new = list(session.new)
    for obj, changed_only in (*((o, False) for o in new), *((o, True) for o in session.dirty)):
        state = inspect(obj)
        for key, column in _checked_columns(state.mapper):
            values = state.attrs[key].history.added if changed_only else [state.dict.get(key)]
            for value in values:
                problem = value_problem(column, value)
                if problem is not None:
                    raise ServiceError(f"The {field_label(column)} {problem}.", key)


@cache
def _checked_columns(mapper: Mapper[Any]) -> tuple[tuple[str, Column[Any]], ...]:
    """The attributes of a mapped class whose column has a rule (text, integers, floats)."""
    return tuple((prop.key, prop.columns[0]) for prop in mapper.column_attrs
                 if isinstance(prop.columns[0], Column)
                 and isinstance(prop.columns[0].type, String | Integer | Float))


event.listen(Session, "before_flush", refuse_unstorable_values)
