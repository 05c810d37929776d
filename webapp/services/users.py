"""Accounts: creation, password login, API keys; admin changes are audited."""
import re

from ..extensions import db
from ..models import API_KEY_PREFIX, Role, User, hash_api_key
from ..timeutil import utcnow
from . import audit
from .base import commit
from .errors import FieldErrors, ValidationError

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
PASSWORD_MIN = 8


def clean_username(value) -> str:
    username = (value or "").strip().lower() if isinstance(value, str) else ""
    if not USERNAME_RE.fullmatch(username):
        raise ValidationError({"username": "Use 2–64 letters, digits, dots, dashes or underscores."})
    return username


def clean_display_name(value) -> str:
    name = " ".join(value.split()) if isinstance(value, str) else ""
    if not name or len(name) > 120:
        raise ValidationError({"display_name": "Give a display name of 1–120 characters."})
    return name


def clean_role(value) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise ValidationError({"role": "Role must be ADMIN, AGENT or SERVICE."}) from None


def clean_password(value) -> str:
    if not isinstance(value, str) or len(value) < PASSWORD_MIN:
        raise ValidationError({"password": f"Use at least {PASSWORD_MIN} characters."})
    return value


def find_user(username: str) -> User | None:
    return db.session.scalar(db.select(User).filter_by(username=(username or "").strip().lower()))


def assignable_users() -> list[User]:
    """Who a ticket can be given to: every active account, people before service accounts."""
    query = db.select(User).filter_by(active=True).order_by(User.role == Role.SERVICE, User.display_name)
    return list(db.session.scalars(query))


def create_user(actor: User | None, *, username, display_name, role, password=None) -> tuple[User, str | None]:
    """Create an admin or agent (with a password) or a service account (with a new API key)."""
    errors = FieldErrors()
    username = errors.check(clean_username, username)
    display_name = errors.check(clean_display_name, display_name)
    role = errors.check(clean_role, role)
    if role is not None and role != Role.SERVICE:
        password = errors.check(clean_password, password)
    errors.raise_if_any()
    if find_user(username):
        raise ValidationError({"username": f"The username “{username}” is taken."})
    user = User(username=username, display_name=display_name, role=role, active=True)
    key = None
    if role == Role.SERVICE:
        key = user.issue_api_key()
    else:
        user.set_password(password)
    db.session.add(user)
    db.session.flush()
    audit.record(actor, "user_create", target=("user", user.id),
                 after={"username": username, "displayName": display_name, "role": role.value})
    commit()
    return user, key


def authenticate(username, password) -> User | None:
    """The user for a username and password, if they match an active person (never a service)."""
    user = find_user(username) if isinstance(username, str) else None
    if user is None or not isinstance(password, str):
        return None
    if not user.active or user.role == Role.SERVICE or not user.check_password(password):
        return None
    user.last_login_at = utcnow()
    commit()
    return user


def user_for_api_key(key) -> User | None:
    """Resolve `X-Api-Key` by its hash; unknown keys and deactivated users get None."""
    if not isinstance(key, str) or not key.startswith(API_KEY_PREFIX) or len(key) > 200:
        return None
    user = db.session.scalar(db.select(User).filter_by(api_key_hash=hash_api_key(key)))
    return user if user is not None and user.active else None


def rotate_api_key(actor: User | None, user: User) -> str:
    """Issue a new key, which replaces (and so revokes) the old one at once."""
    before = user.api_key_prefix
    key = user.issue_api_key()
    audit.record(actor, "api_key_rotate", target=("user", user.id),
                 before={"prefix": before}, after={"prefix": user.api_key_prefix})
    commit()
    return key
