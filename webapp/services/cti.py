"""Resolving and validating Category -> Type -> Item choices."""
import sqlalchemy as sa

from ..extensions import db
from ..models import Category, CtiType, Item
from .base import parse_id
from .errors import ValidationError
from .recent import recent, recent_entities


def resolve_cti(category_id, type_id, item_id, *, for_new_work: bool = True):
    """Return (category, type, item) if they exist, nest correctly and are active."""
    errors: dict[str, str] = {}
    category, cti_type, item = _load_all(category_id, type_id, item_id) or (
        _load(Category, category_id, "category", errors),
        _load(CtiType, type_id, "type", errors),
        _load(Item, item_id, "item", errors),
    )
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


def _load_all(category_id, type_id, item_id) -> tuple | None:
    """The three rows in one query when all exist and nest (the usual case), else None."""
    ids = (parse_id(category_id), parse_id(type_id), parse_id(item_id))
    if None in ids:
        return None
    return recent_entities(f"cti_chain:{ids}", ("category", "cti_type", "item"), lambda: _chain(*ids))


def _chain(category_id: int, type_id: int, item_id: int) -> tuple | None:
    row = db.session.execute(_CHAIN, {"category_id": category_id, "type_id": type_id, "item_id": item_id}).first()
    return tuple(row) if row else None


# Built once: a statement object keeps its compiled form's cache key, a new one computes it again.
_CHAIN = (
    sa.select(Category, CtiType, Item)
    .join(CtiType, CtiType.category_id == Category.id).join(Item, Item.type_id == CtiType.id)
    .where(Category.id == sa.bindparam("category_id"), CtiType.id == sa.bindparam("type_id"),
           Item.id == sa.bindparam("item_id"))
)


def _load(model, raw_id, field: str, errors: dict):
    if raw_id is None or raw_id == "":
        errors[field] = f"Choose {'an' if field == 'item' else 'a'} {field}."
        return None
    ident = parse_id(raw_id)
    entry = db.session.get(model, ident) if ident is not None else None
    if entry is None:
        errors[field] = f"Unknown {field} id {raw_id!r}."
    return entry


CATEGORY_ORDER = (Category.name, Category.id)
TYPE_ORDER = (CtiType.name, CtiType.id)
ITEM_ORDER = (Item.name, Item.id)


def categories_query(*, include_inactive: bool = False):
    """Categories by name; only those open for new tickets unless `include_inactive`."""
    query = db.select(Category).order_by(*CATEGORY_ORDER)
    return query if include_inactive else query.filter_by(active=True)


def types_query(category_id, *, include_inactive: bool = False):
    query = db.select(CtiType).filter_by(category_id=parse_id(category_id)).order_by(*TYPE_ORDER)
    return query if include_inactive else query.filter_by(active=True)


def items_query(type_id, *, include_inactive: bool = False):
    query = db.select(Item).filter_by(type_id=parse_id(type_id)).order_by(*ITEM_ORDER)
    return query if include_inactive else query.filter_by(active=True)


def active_categories() -> list:
    """(id, name) rows of the categories open for new tickets; every form and ticket page shows them."""
    return recent("active_categories", ("category",), lambda: _id_and_name(categories_query(), Category))


def active_types(category_id) -> list:
    ident = parse_id(category_id)
    if ident is None:
        return []
    return recent(f"active_types:{ident}", ("cti_type",), lambda: _id_and_name(types_query(ident), CtiType))


def active_items(type_id) -> list:
    ident = parse_id(type_id)
    if ident is None:
        return []
    return recent(f"active_items:{ident}", ("item",), lambda: _id_and_name(items_query(ident), Item))


def _id_and_name(query, model) -> list:
    """Plain rows, which (unlike loaded entries) can outlive the session: kept by services.recent."""
    return list(db.session.execute(query.with_only_columns(model.id, model.name)))


def existing_entry(model, raw_id, field: str):
    """The category, type or item with this id (inactive ones too), or a field error naming `field`."""
    errors: dict[str, str] = {}
    entry = _load(model, raw_id, field, errors)
    if errors:
        raise ValidationError(errors)
    return entry
