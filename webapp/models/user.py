"""People and robots: admins and agents sign in (a SignIn per browser); service accounts hold API keys."""
import hashlib
import secrets
from enum import StrEnum
from functools import lru_cache

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import JSON, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..db.utc import UTCDateTime, utcnow

API_KEY_PREFIX = "sk_"
AVATAR_COLOURS = 12  # classes avatar-c0 .. avatar-c11 in app.css (no inline styles: CSP)


class Role(StrEnum):
    ADMIN = "ADMIN"
    AGENT = "AGENT"
    SERVICE = "SERVICE"


def hash_secret(secret: str) -> str:
    """API keys and sign-in tokens are 256-bit random: a plain SHA-256 is a safe, index-friendly lookup hash."""
    return hashlib.sha256(secret.encode()).hexdigest()


hash_api_key = hash_secret


def password_hash_method() -> str:
    """scrypt with werkzeug's parameters unless the config says otherwise (the tests' faster hash)."""
    return current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")


@lru_cache(maxsize=4)
def _no_ones_hash(method: str) -> str:
    return generate_password_hash(secrets.token_hex(16), method=method)


def check_no_ones_password(password: str) -> None:
    """Take as long as a wrong password does: an unknown or inactive username must not answer sooner."""
    check_password_hash(_no_ones_hash(password_hash_method()), password)


@lru_cache(maxsize=4096)
def avatar_class(username: str) -> str:
    """A colour derived from the username, so it never changes between pages or sessions."""
    digest = hashlib.sha256(username.encode()).digest()
    return f"avatar-c{digest[0] % AVATAR_COLOURS}"


class Face:
    """How a person looks in lists: initials on a colour. Needs `username` and `display_name`."""

    @property
    def initials(self) -> str:
        parts = [p for p in self.display_name.replace(".", " ").split() if p] or [self.username]
        letters = parts[0][0] + (parts[-1][0] if len(parts) > 1 else parts[0][1:2])
        return letters.upper()

    @property
    def avatar_class(self) -> str:
        return avatar_class(self.username)


class User(Face, UserMixin, db.Model):
    __tablename__ = "user"
    __table_args__ = (
        CheckConstraint("role IN ('ADMIN', 'AGENT', 'SERVICE')", name="role"),
        CheckConstraint("username = lower(username)", name="username_lower"),
        CheckConstraint("role <> 'SERVICE' OR password_hash IS NULL", name="service_no_password"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    api_key_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    api_key_prefix: Mapped[str | None] = mapped_column(String(16))
    api_rate_limit: Mapped[str | None] = mapped_column(String(40))  # None: API_RATE_LIMIT
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[object | None] = mapped_column(UTCDateTime)
    # The profile page's settings: times shown in `time_zone` (None: UTC), theme light/dark/auto, and
    # for each notification reason how it reaches them (services.notify_prefs; None: the defaults).
    email: Mapped[str | None] = mapped_column(String(254))  # where notification mail goes (None: none)
    time_zone: Mapped[str | None] = mapped_column(String(64))
    theme: Mapped[str] = mapped_column(String(8), default="auto", server_default="auto")
    notify_prefs: Mapped[dict | None] = mapped_column(JSON)

    sign_in_token = None  # the sign-in this request's session carries (services.users sets it); no column

    def session_identity(self) -> str:
        """What the session and remember cookies carry (LoginManager.id_attribute): the id and this
        sign-in's token, so each sign-in's cookies differ and ending it refuses them, copies too."""
        return f"{self.id}:{self.sign_in_token}"

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_service(self) -> bool:
        return self.role == Role.SERVICE

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method=password_hash_method())

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

    def issue_api_key(self) -> str:
        """Store only the hash and a short visible prefix; the caller shows the key once."""
        key = API_KEY_PREFIX + secrets.token_urlsafe(32)
        self.api_key_hash = hash_api_key(key)
        self.api_key_prefix = key[:8]
        return key

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"


class SignIn(db.Model):
    """One live sign-in of a person, in one browser; only the hash of the token its cookies carry is
    stored. Ending the sign-in deletes the row."""
    __tablename__ = "sign_in"
    __mapper_args__ = {"confirm_deleted_rows": False}  # two requests ending one sign-in at once both succeed

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)

    @classmethod
    def start(cls, user: "User", at) -> "SignIn":
        """A new sign-in for `user`; its token is handed to `user.sign_in_token`, never stored."""
        token = secrets.token_urlsafe(32)
        user.sign_in_token = token
        return cls(user_id=user.id, token_hash=hash_secret(token), created_at=at)
