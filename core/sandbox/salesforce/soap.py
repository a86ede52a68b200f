"""The SOAP partner ``login`` (the legacy username/password + security token path).

The envelope and its faults are :class:`~core.sandbox.salesforce.oauth.Identity`'s; this is
the route.
"""

from __future__ import annotations

from ..server import Request, Response
from .oauth import LoginFault, soap_fault


class SoapRoutes:
    """``POST /services/Soap/u/{version}``; needs ``self.identity``."""

    def _soap_login(self, request: Request, version: str) -> Response:
        try:
            envelope = self.identity.soap_login(request.body, version)
        except LoginFault as fault:
            return Response(500, soap_fault(fault).encode(), {}, "text/xml;charset=UTF-8")
        return Response(200, envelope.encode(), {}, "text/xml;charset=UTF-8")
