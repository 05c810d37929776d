"""Domain errors: what went wrong, in words a person can read, naming each bad field."""


class DomainError(Exception):
    """Base for every refusal a service makes; views map `status` to their response."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, fields: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class ValidationError(DomainError):
    status = 422
    code = "invalid"

    def __init__(self, fields: dict[str, str], message: str | None = None):
        summary = message or "; ".join(f"{name}: {text}" for name, text in fields.items())
        super().__init__(summary, fields)


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class FieldErrors:
    """Collects errors from several field cleaners so every bad field is reported at once."""

    def __init__(self):
        self.fields: dict[str, str] = {}

    def check(self, cleaner, value):
        try:
            return cleaner(value)
        except ValidationError as exc:
            self.fields.update(exc.fields)
            return None

    def add(self, field: str, message: str) -> None:
        self.fields.setdefault(field, message)

    def raise_if_any(self) -> None:
        if self.fields:
            raise ValidationError(dict(self.fields))
