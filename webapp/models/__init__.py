"""All models, importable from one place."""
from .attachment import Attachment, AttachmentChunk, LinkKind, TicketLink
from .bulk import BulkJob, BulkJobItem, BulkStatus
from .cti import Category, CtiType, Item
from .ops import CacheVersion, DeliveryStatus, IdempotencyRecord, JobRun, OutboxEvent, Webhook, WebhookDelivery
from .notify import Mail, Notification, Reason, Watch
from .report import ReportDay, ReportItemDay
from .ticket import (
    ACTIVE_STATUSES, SEVERITY_LABELS, AuditEvent, Comment, Status, Ticket,
)
from .user import API_KEY_PREFIX, Face, Role, SignIn, User, hash_api_key, hash_secret
from .view import SavedView

__all__ = [
    "ACTIVE_STATUSES", "API_KEY_PREFIX", "Attachment", "AttachmentChunk", "AuditEvent", "BulkJob", "BulkJobItem", "BulkStatus", "CacheVersion", "Face",
    "Category", "Comment", "CtiType", "DeliveryStatus", "IdempotencyRecord", "Item", "JobRun", "LinkKind", "Mail", "Notification", "OutboxEvent", "Reason", "ReportDay",
    "ReportItemDay", "Role", "SavedView", "SEVERITY_LABELS", "SignIn", "Status", "Ticket", "TicketLink", "User", "Watch", "Webhook",
    "WebhookDelivery", "hash_api_key", "hash_secret",
]
