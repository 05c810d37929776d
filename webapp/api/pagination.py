"""List responses: {"items": [...], "next": URL or null}, paged by a services.listing cursor."""
from urllib.parse import urlencode

from flask import jsonify, request

from ..services import ValidationError
from ..services.listing import Page, decode_cursor, keyset_page
from .parsing import query_limit


def request_cursor(list_name: str, width: int) -> tuple | None:
    """The sort key the `cursor` parameter points after; one not made for this list is refused (422)."""
    token = request.args.get("cursor")
    if not token:
        return None
    key = decode_cursor(list_name, token, width)
    if key is None:
        raise ValidationError({"cursor": "Unknown cursor; follow the `next` URL of the previous page."})
    return key


def page_body(page: Page, serialize) -> dict:
    """A services.listing.Page as {"items", "next"}, the `next` URL keeping this request's filters."""
    next_url = None
    if page.next_cursor is not None:
        args = request.args.to_dict(flat=False)
        args["cursor"] = [page.next_cursor]
        next_url = f"{request.base_url}?{urlencode(args, doseq=True)}"
    return {"items": [serialize(item) for item in page.items], "next": next_url}


def page_json(page: Page, serialize, **extra):
    """A page as JSON (page_body), with any `extra` keys beside items and next."""
    return jsonify({**page_body(page, serialize), **extra})


def page_response(list_name: str, query, order, serialize):
    """One page of `query` in `order` as JSON (services.listing.keyset_page)."""
    after = request_cursor(list_name, len(order))
    return page_json(keyset_page(query, order, after, query_limit(), list_name=list_name), serialize)
