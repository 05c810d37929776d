"""The Category -> Type -> Item tree, to look up the ids a new ticket needs."""
from ..auth.access import API, access
from ..models import Category, CtiType
from ..services import cti as cti_service
from . import bp
from .pagination import page_response
from .parsing import query_flag, query_id
from .serializers import cti_json


@bp.get("/cti/categories")
@access(API)
def list_categories():
    query = cti_service.categories_query(include_inactive=query_flag("includeInactive"))
    return page_response("categories", query, cti_service.CATEGORY_ORDER, cti_json)


@bp.get("/cti/types")
@access(API)
def list_types():
    """The types under ?categoryId= (active ones unless includeInactive=true)."""
    return _children("types", Category, "category", cti_service.types_query, cti_service.TYPE_ORDER)


@bp.get("/cti/items")
@access(API)
def list_items():
    """The items under ?typeId= (active ones unless includeInactive=true)."""
    return _children("items", CtiType, "type", cti_service.items_query, cti_service.ITEM_ORDER)


def _children(list_name: str, parent_model, parent: str, query_for, order):
    """A page of the entries under the parent named by the ?<parent>Id= parameter (422 if unknown)."""
    param = f"{parent}Id"
    entry = cti_service.existing_entry(parent_model, query_id(param, required=True), parent)
    query = query_for(entry.id, include_inactive=query_flag("includeInactive"))
    return page_response(list_name, query, order, lambda child: cti_json(child, param))
