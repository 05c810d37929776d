"""Reading submitted forms into service arguments, and the option lists forms offer."""
from dataclasses import dataclass, field

from ..services import cti as cti_service
from ..services.base import parse_id

TICKET_FIELDS = ("title", "overview", "severity", "category_id", "type_id", "item_id", "assignee_id")
ID_PREFIXES = ("", "reroute-", "bulk-")  # the pages that hold a Category -> Type -> Item picker


def ticket_values(form) -> dict:
    """The new-ticket form as typed, to hand to the service and to re-render on error."""
    return {name: form.get(name, "") for name in TICKET_FIELDS}


def expected_version(form):
    """The ticket version the form was rendered from (the service refuses a stale one)."""
    return form.get("version") or None


def id_prefix(value) -> str:
    return value if value in ID_PREFIXES else ""


@dataclass
class CtiChoices:
    """The options of a cascading Category -> Type -> Item picker and what is selected."""

    category_id: int | None = None
    type_id: int | None = None
    item_id: int | None = None
    categories: list = field(default_factory=list)
    types: list = field(default_factory=list)
    items: list = field(default_factory=list)


def cti_choices(category_id=None, type_id=None, item_id=None, *, categories=True) -> CtiChoices:
    """Active options for each level; a level's options depend on the choice above it."""
    choices = CtiChoices(parse_id(category_id), parse_id(type_id), parse_id(item_id))
    if categories:
        choices.categories = cti_service.active_categories()
    if choices.category_id is not None:
        choices.types = cti_service.active_types(choices.category_id)
    if choices.type_id not in {t.id for t in choices.types}:
        choices.type_id = None
    if choices.type_id is not None:
        choices.items = cti_service.active_items(choices.type_id)
    return choices
