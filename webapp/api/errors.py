"""The API's one error shape, with the services' neutral field names turned into the API's camelCase."""
from flask import jsonify

from ..http.errors import error_body
from ..services import DomainError, ValidationError
from ..services.base import rollback
from . import bp

# Service field name -> API field name; names not listed are the same in both.
FIELD_NAMES = {
    "category": "categoryId",
    "type": "typeId",
    "item": "itemId",
    "assignee": "assigneeId",
    "dedup_key": "dedupKey",
    "display_name": "displayName",
}


class ApiError(DomainError):
    """A refusal made by the API layer itself: malformed JSON, wrong media type."""

    def __init__(self, status: int, code: str, message: str, fields: dict | None = None):
        super().__init__(message, fields)
        self.status = status
        self.code = code


def malformed(message: str) -> ApiError:
    return ApiError(400, "malformed_json", message)


def api_fields(fields: dict) -> dict:
    return {FIELD_NAMES.get(name, name): text for name, text in fields.items()}


@bp.errorhandler(DomainError)
def domain_error(exc: DomainError):
    """Every refusal a service or the API makes, as {"error": {code, message, fields}}."""
    rollback()
    fields = api_fields(exc.fields)
    message = exc.message
    if isinstance(exc, ValidationError) and message == _summary(exc.fields):
        message = _summary(fields)
    return jsonify(error_body(exc.code, message, fields)), exc.status


def _summary(fields: dict) -> str:
    return "; ".join(f"{name}: {text}" for name, text in fields.items())
