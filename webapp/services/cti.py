"""Resolving and validating Category -> Type -> Item choices."""
from ..extensions import db
from ..models import Category, CtiType, Item
from .errors import ValidationError


_ID_MAX = 2**63 - 1  # the largest value a BIGINT column (and so any id) can hold


def _as_id(value) -> int | None:
    """Accept 7 or "7"; anything else, or a number no id column can hold, is not an id."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 19:
        value = int(value.strip())
    if isinstance(value, int) and -_ID_MAX <= value <= _ID_MAX:
        return value
    return None


def resolve_cti(category_id, type_id, item_id, *, for_new_work: bool = True):
    """Return (category, type, item) if they exist, nest correctly and are active."""
    errors: dict[str, str] = {}
    category = _load(Category, category_id, "category", errors)
    cti_type = _load(CtiType, type_id, "type", errors)
    item = _load(Item, item_id, "item", errors)
    if category and cti_type and cti_type.category_id != category.id:
        errors["type"] = f"Type “{cti_type.name}” is not under category “{category.name}”."
    if cti_type and item and item.type_id != cti_type.id:
        errors["item"] = f"Item “{item.name}” is not under type “{cti_type.name}”."
    if for_new_work:
        for field, entry in (("category", category), ("type", cti_type), ("item", item)):
            if entry is not None and field not in errors and not entry.active:
                errors[field] = f"“{entry.name}” is inactive and cannot take new tickets."
    if errors:
        raise ValidationError(errors)
    return category, cti_type, item


def _load(model, raw_id, field: str, errors: dict):
    if raw_id is None or raw_id == "":
        errors[field] = f"Choose {'an' if field == 'item' else 'a'} {field}."
        return None
    ident = _as_id(raw_id)
    entry = db.session.get(model, ident) if ident is not None else None
    if entry is None:
        errors[field] = f"Unknown {field} id {raw_id!r}."
    return entry


def active_categories() -> list[Category]:
    return list(db.session.scalars(db.select(Category).filter_by(active=True).order_by(Category.name)))


def active_types(category_id) -> list[CtiType]:
    ident = _as_id(category_id)
    if ident is None:
        return []
    query = db.select(CtiType).filter_by(category_id=ident, active=True).order_by(CtiType.name)
    return list(db.session.scalars(query))


def active_items(type_id) -> list[Item]:
    ident = _as_id(type_id)
    if ident is None:
        return []
    return list(db.session.scalars(db.select(Item).filter_by(type_id=ident, active=True).order_by(Item.name)))
