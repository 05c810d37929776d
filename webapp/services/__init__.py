"""The service layer: the only place business rules live; web, API and jobs all call it."""
from .errors import Conflict, DomainError, FieldErrors, Forbidden, NotFound, ValidationError

__all__ = ["Conflict", "DomainError", "FieldErrors", "Forbidden", "NotFound", "ValidationError"]
