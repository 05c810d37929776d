"""Test data builders that go through the service layer, as real data would."""
import itertools

from webapp.extensions import db
from webapp.models import Category, CtiType, Item, Role
from webapp.services import tickets as ticket_service
from webapp.services.users import create_user

PASSWORD = "correct horse battery"
_seq = itertools.count(1)


class Factories:
    def user(self, username=None, role=Role.AGENT, display_name=None, password=PASSWORD, active=True):
        username = username or f"user{next(_seq)}"
        user, key = create_user(
            None, username=username, display_name=display_name or username.title(),
            role=role, password=None if role == Role.SERVICE else password,
        )
        if not active:
            user.active = False
            db.session.commit()
        user.plain_api_key = key
        return user

    def cti(self, category="Infra", type_="Servers", item=None, active=True):
        """Return an (category, type, item) chain, reusing existing parents by name."""
        cat = db.session.scalar(db.select(Category).filter_by(name=category)) or Category(name=category)
        typ = db.session.scalar(db.select(CtiType).filter_by(category=cat, name=type_)) if cat.id else None
        typ = typ or CtiType(category=cat, name=type_)
        itm = Item(type=typ, name=item or f"Item {next(_seq)}", active=active)
        db.session.add_all([cat, typ, itm])
        db.session.commit()
        return cat, typ, itm

    def ticket(self, actor=None, cti=None, title=None, severity=3, assignee=None, overview="", **extra):
        actor = actor or self.user()
        cat, typ, itm = cti or self.cti()
        return ticket_service.create_ticket(
            actor, title=title or f"Ticket {next(_seq)}", overview=overview, severity=severity,
            category_id=cat.id, type_id=typ.id, item_id=itm.id,
            assignee_id=assignee.id if assignee else None, **extra,
        )
