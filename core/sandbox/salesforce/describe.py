"""What the org says about its objects: the global describe, an object's describe and its
basic information."""

from __future__ import annotations

from ..server import Request, Response, json_response
from . import schema
from .composite import COLLECTION_LIMIT
from .oauth import Session
from .wire import sobject_or_404


class DescribeRoutes:
    """``sobjects``, ``sobjects/{object}`` and ``sobjects/{object}/describe``."""

    def _global_describe(self, request: Request, session: Session, version: str) -> Response:
        return json_response(200, {"encoding": "UTF-8", "maxBatchSize": COLLECTION_LIMIT,
                                   "sobjects": [{
                                       "name": o.name, "label": o.name, "keyPrefix": o.key_prefix,
                                       "queryable": True, "createable": o.createable,
                                       "updateable": o.updateable, "deletable": o.deletable,
                                       "urls": {"sobject": f"/services/data/v{version}/sobjects/"
                                                           f"{o.name}"},
                                   } for o in schema.OBJECTS.values()]})

    def _describe(self, request: Request, session: Session, version: str, object: str) -> Response:
        return json_response(200, schema.describe(sobject_or_404(object), version))

    def _object_info(self, request: Request, session: Session, version: str,
                     object: str) -> Response:
        obj = sobject_or_404(object)
        describe = schema.describe(obj, version)
        describe.pop("fields")
        return json_response(200, {"objectDescribe": describe, "recentItems": []})
