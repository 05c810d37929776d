"""Editing the Category -> Type -> Item tree: add, rename, (de)activate, delete what no ticket uses."""
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Category, CtiType, Item, Ticket, User
from . import audit
from .base import commit, get_or_404
from .errors import Conflict, NotFound, ValidationError
from .text import checked_text

NAME_MAX = 80
IN_USE_CAP = 1000  # counting past this tells an admin nothing more and costs a long scan


@dataclass(frozen=True)
class Level:
    """One tier of the tree: its model, its parent tier and how tickets point at it."""

    name: str
    label: str
    model: type
    parent: str | None
    parent_key: str | None
    child: str | None
    ticket_column: object


LEVELS = {
    "category": Level("category", "category", Category, None, None, "type", Ticket.category_id),
    "type": Level("type", "type", CtiType, "category", "category_id", "item", Ticket.type_id),
    "item": Level("item", "item", Item, "type", "type_id", None, Ticket.item_id),
}


def level(name: str) -> Level:
    try:
        return LEVELS[name]
    except KeyError:
        raise NotFound(f"No CTI level {name!r}.") from None


def clean_name(value) -> str:
    name = " ".join(checked_text("name", value).split()) if isinstance(value, str) else ""
    if not name:
        raise ValidationError({"name": "Give it a name."})
    if len(name) > NAME_MAX:
        raise ValidationError({"name": f"Keep names under {NAME_MAX} characters ({len(name)} now)."})
    return name


def get_entry(level_name: str, entry_id):
    """Load a category, type or item by id (inactive ones too), or raise NotFound."""
    tier = level(level_name)
    return get_or_404(tier.model, entry_id, f"No {tier.label} {entry_id}.")


def load_tree() -> list[Category]:
    """Every category with its types and items (three queries), each tier sorted by name."""
    query = db.select(Category).options(selectinload(Category.types).selectinload(CtiType.items))
    categories = sorted(db.session.scalars(query), key=_sort_key)
    for category in categories:
        category.types.sort(key=_sort_key)
        for cti_type in category.types:
            cti_type.items.sort(key=_sort_key)
    return categories


def _sort_key(entry) -> tuple:
    return entry.name.casefold(), entry.id


def path_of(level_name: str, entry) -> str:
    """"Category › Type › Item" down to this entry, as tickets show it."""
    if level_name == "category":
        return entry.name
    if level_name == "type":
        return f"{entry.category.name} › {entry.name}"
    return entry.path


def _siblings(tier: Level, parent_id):
    query = db.select(tier.model)
    if tier.parent_key:
        query = query.filter(getattr(tier.model, tier.parent_key) == parent_id)
    return db.session.scalars(query)


def _check_unique(tier: Level, parent_id, name: str, exclude_id=None) -> None:
    """Names are unique among siblings regardless of case: “Backup” and “backup” would confuse."""
    folded = name.casefold()
    for sibling in _siblings(tier, parent_id):
        if sibling.id != exclude_id and sibling.name.casefold() == folded:
            raise ValidationError({"name": _taken(tier, sibling.name)})


def _taken(tier: Level, name: str) -> str:
    where = f"in this {tier.parent}" if tier.parent else "already"
    article = "an" if tier.label[0] in "aeiou" else "a"
    return f"There is {article} {tier.label} called “{name}” {where}; choose another name."


def _flush_unique(tier: Level, name: str) -> None:
    """Flush in a savepoint so a concurrent duplicate becomes a field error, not a 500."""
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise ValidationError({"name": _taken(tier, name)}) from None


def add_entry(actor: User, level_name: str, name, parent_id=None):
    """Add a category, or a type under a category, or an item under a type."""
    tier = level(level_name)
    parent = None
    if tier.parent:
        try:
            parent = get_entry(tier.parent, parent_id)
        except NotFound:
            raise ValidationError({tier.parent: f"Choose an existing {tier.parent}."}) from None
    name = clean_name(name)
    _check_unique(tier, parent.id if parent else None, name)
    entry = tier.model(name=name, active=True)
    if parent is not None:
        setattr(entry, tier.parent, parent)
    db.session.add(entry)
    _flush_unique(tier, name)
    audit.record(actor, "cti_add", target=(tier.name, entry.id),
                 after={"name": name, "path": path_of(tier.name, entry)})
    commit()
    return entry


def rename_entry(actor: User, level_name: str, entry_id, name):
    """Rename in place; tickets show the new name at once because they point at the entry."""
    tier = level(level_name)
    entry = get_entry(level_name, entry_id)
    name = clean_name(name)
    if name == entry.name:
        return entry
    parent_id = getattr(entry, tier.parent_key) if tier.parent_key else None
    _check_unique(tier, parent_id, name, exclude_id=entry.id)
    before = {"name": entry.name, "path": path_of(tier.name, entry)}
    entry.name = name
    _flush_unique(tier, name)
    audit.record(actor, "cti_rename", target=(tier.name, entry.id),
                 before=before, after={"name": name, "path": path_of(tier.name, entry)})
    commit()
    return entry


def set_entry_active(actor: User, level_name: str, entry_id, active: bool):
    """Deactivate (no new tickets or reroutes; old tickets keep it) or reactivate an entry."""
    tier = level(level_name)
    entry = get_entry(level_name, entry_id)
    if bool(entry.active) == active:
        return entry
    entry.active = active
    audit.record(actor, "cti_reactivate" if active else "cti_deactivate", target=(tier.name, entry.id),
                 before={"active": not active, "path": path_of(tier.name, entry)},
                 after={"active": active, "path": path_of(tier.name, entry)})
    commit()
    return entry


def tickets_using(level_name: str, entry) -> int:
    """How many tickets (up to IN_USE_CAP) point at this entry; the composite FKs mean a
    category's count covers its whole subtree."""
    column = level(level_name).ticket_column
    capped = db.select(Ticket.id).where(column == entry.id).limit(IN_USE_CAP).subquery()
    return db.session.scalar(db.select(db.func.count()).select_from(capped))


def delete_entry(actor: User, level_name: str, entry_id) -> None:
    """Delete an entry no ticket uses, with everything under it; a used one must be deactivated."""
    tier = level(level_name)
    entry = get_entry(level_name, entry_id)
    used = tickets_using(level_name, entry)
    if used:
        count = f"{IN_USE_CAP}+ tickets" if used >= IN_USE_CAP else f"{used} ticket{'' if used == 1 else 's'}"
        action = "Deactivate it instead" if entry.active else "It stays deactivated"
        raise Conflict(
            f"“{entry.name}” is used by {count}, so it cannot be deleted. "
            f"{action}: it keeps showing on those tickets but is not offered for new ones."
        )
    before = {"name": entry.name, "path": path_of(tier.name, entry), **_delete_descendants(tier, entry)}
    db.session.delete(entry)
    audit.record(actor, "cti_delete", target=(tier.name, entry.id), before=before)
    commit()


def _delete_descendants(tier: Level, entry) -> dict:
    """Remove the types and items under an unused entry; return their names for the audit trail."""
    if tier.name == "item":
        return {}
    if tier.name == "category":
        query = db.select(CtiType).filter_by(category_id=entry.id).options(selectinload(CtiType.items))
        types = list(db.session.scalars(query))
    else:
        types = [entry]
    items = [item for cti_type in types for item in cti_type.items]
    for row in items + [t for t in types if t is not entry]:
        db.session.delete(row)
    db.session.flush()
    removed = {"types": [t.name for t in types if t is not entry], "items": [i.name for i in items]}
    return {key: names for key, names in removed.items() if names}
