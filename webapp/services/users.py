"""Accounts: creation, password sign-in and sign-out, API keys; every change is audited.

Each password sign-in is a SignIn row whose token the browser's session and remember cookies carry
(User.session_identity). Ending a sign-in deletes its row, and the cookies that carried it, copied
or not, are refused on the next request of every process (services.recent keeps the rows behind
sessions under cache_version, which sign_in's triggers raise too)."""
import re
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from flask_login.config import COOKIE_DURATION
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import API_KEY_PREFIX, Role, SignIn, User, hash_api_key, hash_secret
from ..models.user import check_no_ones_password
from ..db.utc import utcnow
from . import audit
from .base import commit, get_or_404
from .errors import FieldErrors, ValidationError
from .recent import recent, recent_entities
from .text import checked_text, text_fault
from ..ratelimit import parse_rate

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
PASSWORD_MIN = 8
API_RATE_LIMIT_MAX = 40  # the column


def clean_username(value) -> str:
    username = (value or "").strip().lower() if isinstance(value, str) else ""
    if not USERNAME_RE.fullmatch(username):
        raise ValidationError({"username": "Use 2–64 letters, digits, dots, dashes or underscores."})
    return username


def clean_display_name(value) -> str:
    name = " ".join(checked_text("display_name", value).split()) if isinstance(value, str) else ""
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
    return checked_text("password", value)


USER_ORDER = (User.username, User.id)


def users_query(*, include_inactive: bool = False, username=None):
    """People and service accounts by username; active ones unless `include_inactive`."""
    query = db.select(User).order_by(*USER_ORDER)
    if username is not None:
        query = query.filter_by(username=username.strip().lower())
    return query if include_inactive else query.filter_by(active=True)


def find_user(username: str) -> User | None:
    """The account with this username; None for text no username can hold (e.g. a NUL)."""
    if not isinstance(username, str) or text_fault(username):
        return None
    return db.session.scalar(db.select(User).filter_by(username=username.strip().lower()))


_ASSIGNABLE_ORDER = (User.role == Role.SERVICE, User.display_name)


def assignable_users() -> list:
    """Who a ticket can be given to, as (id, display_name, is_service) rows: every active account,
    people before service accounts. Every ticket page lists them, so services.recent keeps them."""
    is_service = (User.role == Role.SERVICE).label("is_service")
    return recent("assignable_users", ("user",), lambda: list(db.session.execute(
        db.select(User.id, User.display_name, is_service).where(User.active).order_by(*_ASSIGNABLE_ORDER))))


def create_user(actor: User | None, *, username, display_name, role, password=None) -> tuple[User, str | None]:
    """Create an admin or agent (with a password) or a service account (with a new API key)."""
    errors = FieldErrors()
    username = errors.check(clean_username, username)
    display_name = errors.check(clean_display_name, display_name)
    role = errors.check(clean_role, role)
    if role is not None and role != Role.SERVICE:
        password = errors.check(clean_password, password)
    if username and find_user(username):
        errors.add("username", f"The username “{username}” is taken.")
    errors.raise_if_any()
    user = User(username=username, display_name=display_name, role=role, active=True)
    key = None
    if role == Role.SERVICE:
        key = user.issue_api_key()
    else:
        user.set_password(password)
    try:
        with db.session.begin_nested():  # a concurrent sign-up of the same name loses cleanly
            db.session.add(user)
            db.session.flush()
    except IntegrityError:
        raise ValidationError({"username": f"The username “{username}” is taken."}) from None
    audit.record(actor, "user_create", target=("user", user.id),
                 after={"username": username, "displayName": display_name, "role": role.value})
    commit()
    return user, key


def authenticate(username, password) -> User | None:
    """The user for a username and password, if they match an active person (never a service),
    signed in: a new SignIn whose token `user.sign_in_token` holds for the session to carry."""
    user = find_user(username) if isinstance(username, str) else None
    if not isinstance(password, str):
        return None
    if user is None or not user.active or user.role == Role.SERVICE or not user.password_hash:
        check_no_ones_password(password)  # costs what a wrong password costs
        return None
    if not user.check_password(password):
        return None
    now = user.last_login_at = utcnow()
    forgotten = now - _sign_in_lifetime()
    db.session.execute(sa.delete(SignIn).where(SignIn.user_id == user.id, SignIn.created_at < forgotten))
    db.session.add(SignIn.start(user, now))
    commit()
    return user


def _sign_in_lifetime() -> timedelta:
    """A sign-in older than a remember cookie lives is forgotten at its owner's next sign-in."""
    duration = current_app.config.get("REMEMBER_COOKIE_DURATION", COOKIE_DURATION)
    return timedelta(seconds=duration) if isinstance(duration, int) else duration


def user_for_api_key(key) -> User | None:
    """Resolve `X-Api-Key` by its hash; unknown keys and deactivated users get None."""
    if not isinstance(key, str) or not key.startswith(API_KEY_PREFIX) or len(key) > 200:
        return None
    key_hash = hash_api_key(key)
    found = recent_entities(f"api_key:{key_hash}", ("user",), lambda: _user_by_key_hash(key_hash))
    user = found[0] if found else None
    return user if user is not None and user.active else None


def _user_by_key_hash(key_hash: str) -> tuple[User] | None:
    user = db.session.scalar(_BY_KEY_HASH, {"key_hash": key_hash})
    return (user,) if user is not None else None


SESSION_IDENTITY_RE = re.compile(r"([0-9]{1,18}):([A-Za-z0-9_-]{43})")


def session_user(identity: str) -> User | None:
    """The person behind a session's "<user id>:<sign-in token>" while that sign-in is live, as the
    database held them when this request began, with `sign_in_token` set; None once it has ended."""
    match = SESSION_IDENTITY_RE.fullmatch(identity) if isinstance(identity, str) else None
    if match is None:
        return None
    user_id, token = int(match[1]), match[2]
    found = recent_entities(f"sign_in:{user_id}:{token}", ("user", "sign_in"),
                            lambda: _signed_in_user(user_id, token))
    if not found:
        return None
    found[0].sign_in_token = token
    return found[0]


def _signed_in_user(user_id: int, token: str) -> tuple[User] | None:
    user = db.session.scalar(_SIGNED_IN, {"user_id": user_id, "token_hash": hash_secret(token)})
    return (user,) if user is not None else None


_SIGNED_IN = (sa.select(User).join(SignIn, SignIn.user_id == User.id)  # built once: every page
              .where(User.id == sa.bindparam("user_id"), SignIn.token_hash == sa.bindparam("token_hash")))


_BY_KEY_HASH = sa.select(User).where(User.api_key_hash == sa.bindparam("key_hash"))  # built once: every API call


def rotate_api_key(actor: User | None, user: User) -> str:
    """Issue a new key, which replaces (and so revokes) the old one at once."""
    before = user.api_key_prefix
    key = user.issue_api_key()
    audit.record(actor, "api_key_rotate", target=("user", user.id),
                 before={"prefix": before}, after={"prefix": user.api_key_prefix})
    commit()
    return key


def get_user(user_id) -> User:
    """Load a user by id (any role, active or not), or raise NotFound."""
    return get_or_404(User, user_id, f"No user {user_id}.")


def admin_user_list() -> list[User]:
    """Everyone, for the admin panel: active accounts first, then people before robots."""
    role_rank = db.case({Role.ADMIN.value: 0, Role.AGENT.value: 1}, value=User.role, else_=2)
    return list(db.session.scalars(db.select(User).order_by(User.active.desc(), role_rank, User.username)))


def _other_active_admins(user: User, lock: bool) -> int:
    """How many other active admins exist; `lock` holds their rows so two demotions cannot race to zero."""
    query = db.select(User.id).filter(User.role == Role.ADMIN, User.active.is_(True), User.id != user.id)
    return len(db.session.scalars(query.with_for_update() if lock else query).all())


def _last_admin_refusal(user: User, lock: bool) -> str | None:
    if user.role == Role.ADMIN and user.active and _other_active_admins(user, lock) == 0:
        return "This is the last active admin; make someone else an admin first."
    return None


def role_change_refusal(actor: User | None, user: User, role: Role, *, lock: bool = False) -> str | None:
    """Why `actor` may not give `user` this role, or None if they may (pages ask this to explain)."""
    if role == user.role:
        return None
    if Role.SERVICE in (role, user.role):
        return "Service accounts and people cannot swap kinds; create a new account instead."
    if user.role == Role.ADMIN and actor is not None and actor.id == user.id:
        return "You cannot remove your own admin role; ask another admin to do it."
    return _last_admin_refusal(user, lock)


def deactivation_refusal(actor: User | None, user: User, *, lock: bool = False) -> str | None:
    """Why `actor` may not deactivate `user`, or None if they may."""
    if actor is not None and actor.id == user.id:
        return "You cannot deactivate yourself; ask another admin to do it."
    return _last_admin_refusal(user, lock)


def clean_api_rate_limit(value) -> str | None:
    """An account's own API budget, written like API_RATE_LIMIT ("600 per minute"); blank: the default."""
    text = checked_text("api_rate_limit", value).strip() if isinstance(value, str) else ""
    if not text:
        return None
    try:
        parse_rate(text)
    except ValueError:
        raise ValidationError({"api_rate_limit": "Write it like 600 per minute, 50 per 10 seconds or 5000/hour; "
                                                 "leave it blank for the default."}) from None
    if len(text) > API_RATE_LIMIT_MAX:
        raise ValidationError({"api_rate_limit": f"Use at most {API_RATE_LIMIT_MAX} characters."})
    return text


def update_user(actor: User | None, user: User, *, display_name=None, role=None, api_rate_limit=...) -> User:
    """Change a display name, role and/or API budget (None, or for the budget `...`, leaves a field
    alone); one audit event if anything changed."""
    errors = FieldErrors()
    new_name = errors.check(clean_display_name, display_name) if display_name is not None else user.display_name
    new_role = errors.check(clean_role, role) if role is not None else Role(user.role)
    new_rate = user.api_rate_limit if api_rate_limit is ... else errors.check(clean_api_rate_limit, api_rate_limit)
    if new_role is not None and (refusal := role_change_refusal(actor, user, new_role, lock=True)):
        errors.add("role", refusal)
    errors.raise_if_any()
    before, after = {}, {}
    if new_name != user.display_name:
        before["displayName"], after["displayName"] = user.display_name, new_name
    if new_role != user.role:
        before["role"], after["role"] = user.role, new_role.value
    if new_rate != user.api_rate_limit:
        before["apiRateLimit"], after["apiRateLimit"] = user.api_rate_limit, new_rate
    if not after:
        return user
    user.display_name, user.role, user.api_rate_limit = new_name, new_role, new_rate
    if "role" in after:
        _end_sign_ins(user)  # the next page asks them to sign in with their new role
    audit.record(actor, "user_update", target=("user", user.id), before=before, after=after)
    commit()
    return user


def set_active(actor: User | None, user: User, active: bool) -> User:
    """Deactivate (sessions and keys stop working on the next request) or reactivate an account."""
    if bool(user.active) == active:
        return user
    if not active and (refusal := deactivation_refusal(actor, user, lock=True)):
        raise ValidationError({"active": refusal})
    user.active = active
    if not active:
        _end_sign_ins(user)  # reactivation does not bring the old cookies back
    audit.record(actor, "user_reactivate" if active else "user_deactivate", target=("user", user.id),
                 before={"active": not active}, after={"active": active})
    commit()
    return user


def reset_password(actor: User | None, user: User, password) -> User:
    """Set a new password for a person; the audit event records that it happened, never the password."""
    if user.role == Role.SERVICE:
        raise ValidationError({"password": "Service accounts have no password; regenerate their key instead."})
    user.set_password(clean_password(password))
    _end_sign_ins(user)
    audit.record(actor, "user_password_reset", target=("user", user.id))
    commit()
    return user


def change_own_password(user: User, *, current_password, password) -> User:
    """A person's own new password, given their current one; their other sign-ins end, the one this
    request carries (`user.sign_in_token`) stays."""
    errors = FieldErrors()
    if not isinstance(current_password, str) or not user.check_password(current_password):
        errors.add("current_password", "That is not your current password.")
    password = errors.check(clean_password, password)
    errors.raise_if_any()
    user.set_password(password)
    _end_sign_ins(user, SignIn.token_hash != _token_hash(user))
    audit.record(user, "user_password_change", target=("user", user.id))
    commit()
    return user


def sign_out(user: User) -> None:
    """End the sign-in this request carries: its cookies are refused, copies included; the user's
    other devices stay signed in."""
    _end_sign_ins(user, SignIn.token_hash == _token_hash(user))
    audit.record(user, "user_sign_out", target=("user", user.id))
    commit()


def sign_out_everywhere(user: User) -> None:
    """End every sign-in of `user`, this one too (a lost laptop, a shared browser)."""
    _end_sign_ins(user)
    audit.record(user, "user_sign_out_everywhere", target=("user", user.id))
    commit()


def _token_hash(user: User) -> str:
    return hash_secret(user.sign_in_token or "")


def _end_sign_ins(user: User, *which) -> None:
    """Delete `user`'s sign-ins (those matching `which`, if given) in the caller's transaction.
    Through the ORM, so this process drops what it kept of them at the commit (services.recent)."""
    for sign_in in db.session.scalars(db.select(SignIn).where(SignIn.user_id == user.id, *which)):
        db.session.delete(sign_in)


def regenerate_service_key(actor: User | None, user: User) -> str:
    """The admin panel's key refresh: only service accounts carry keys there."""
    if user.role != Role.SERVICE:
        raise ValidationError({"api_key": "Only service accounts have API keys to regenerate."})
    return rotate_api_key(actor, user)
