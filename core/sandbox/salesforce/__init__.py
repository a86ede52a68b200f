"""The Salesforce emulator (DESIGN §4), split by API surface.

:mod:`.app` composes the route handlers of sign-in (:mod:`.oauth`, :mod:`.soap`),
:mod:`.describe`, :mod:`.query`, :mod:`.rows`, :mod:`.composite` and :mod:`.bulk`, plus the
Salesforce-only :mod:`.faults`, over one :mod:`.store`. The store answers SOQL through
:mod:`.soql`, keeps the objects :mod:`.schema` describes and converts values with
:mod:`.values`; :mod:`.wire` holds what the surfaces share (error bodies, tokens, dates).
"""
