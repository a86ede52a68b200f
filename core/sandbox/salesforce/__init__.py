"""The Salesforce emulator (DESIGN §4): its API in :mod:`.app`, sign-in in :mod:`.oauth`, Bulk
API 2.0 query jobs in :mod:`.bulk`, the org's data in :mod:`.store`, queried through
:mod:`.soql`, shaped as :mod:`.schema` describes and converted by :mod:`.values`.
"""
