"""The use cases of the product: evidence, the proficiency cache, gradebook reads, portfolio, accounts,
policy, artifacts, comments. Each public function validates, writes, and leaves committing to the caller's
transaction. Services import models and the pure proficiency core, never `interop` or `web`."""


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
