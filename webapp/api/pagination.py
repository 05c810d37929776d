"""List responses: {"items": [...], "next": URL or null}, paged by a signed keyset cursor."""
from datetime import datetime
from urllib.parse import urlencode

from flask import current_app, jsonify, request
from itsdangerous import BadData, URLSafeSerializer

from ..services import ValidationError
from ..services.listing import keyset_page
from .parsing import query_limit


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt="api-list-cursor")


def encode_cursor(list_name: str, after: tuple) -> str:
    values = [{"at": value.isoformat()} if isinstance(value, datetime) else value for value in after]
    return _serializer().dumps([list_name, values])


def decode_cursor(list_name: str, order) -> tuple | None:
    """The sort key a `cursor` parameter points after; signed, so a forged or foreign one is refused."""
    token = request.args.get("cursor")
    if not token:
        return None
    try:
        name, values = _serializer().loads(token)
        if name != list_name or len(values) != len(order):
            raise ValueError
        return tuple(datetime.fromisoformat(value["at"]) if isinstance(value, dict) else value for value in values)
    except (BadData, ValueError, TypeError):
        raise ValidationError({"cursor": "Unknown cursor; follow the `next` URL of the previous page."}) from None


def page_response(list_name: str, query, order, serialize, params: dict | None = None):
    """One page of `query` as JSON, with a `next` URL that keeps this request's filters
    (`params`: the values a reused `query` binds, as services.listing.keyset_page takes them)."""
    page = keyset_page(query, order, decode_cursor(list_name, order), query_limit(), params)
    next_url = None
    if page.next_after is not None:
        args = request.args.to_dict(flat=False)
        args["cursor"] = [encode_cursor(list_name, page.next_after)]
        next_url = f"{request.base_url}?{urlencode(args, doseq=True)}"
    return jsonify({"items": [serialize(item) for item in page.items], "next": next_url})
