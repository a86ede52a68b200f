"""The Salesforce objects the sandbox serves: their fields, types and what the API allows.

One definition drives the SQLite tables of :mod:`core.sandbox.salesforce.store`, the SOQL
translation of :mod:`core.sandbox.salesforce.soql` and the ``describe`` answers, so the three never
disagree about a field. Field names are matched case-insensitively, as Salesforce does, and
always answered in their canonical spelling.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..ids import PREFIX

# Types whose values are text: compared case-insensitively, stored with COLLATE NOCASE.
TEXT_TYPES = frozenset({"string", "email", "picklist", "textarea", "url", "anyType"})
ID_TYPES = frozenset({"id", "reference"})


@dataclass(frozen=True)
class Field:
    """One field of an sObject as the API describes it."""

    name: str
    type: str  # id, reference, string, email, picklist, url, boolean, datetime, date, anyType
    createable: bool = False
    updateable: bool = False
    filterable: bool = True
    sortable: bool = True
    nillable: bool = True
    length: int = 0
    reference_to: str | None = None
    relationship: str | None = None  # e.g. "Account" for AccountId
    computed: str | None = None  # SQL template over "{t}" (the table alias) for formula fields

    @property
    def is_text(self) -> bool:
        return self.type in TEXT_TYPES

    @property
    def stored(self) -> bool:
        return self.computed is None


@dataclass(frozen=True)
class SObject:
    """An object (table) with its fields in describe order."""

    name: str
    fields: tuple[Field, ...]
    createable: bool = True
    updateable: bool = True
    deletable: bool = True
    required: tuple[str, ...] = ()  # needed on create
    history_of: str | None = None  # for ContactHistory: "Contact"
    _lookup: dict[str, Field] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self):
        self._lookup.update({f.name.lower(): f for f in self.fields})

    @property
    def key_prefix(self) -> str:
        return PREFIX[self.name]

    @property
    def table(self) -> str:
        return f'"{self.name}"'

    def field(self, name: str) -> Field | None:
        """The field called ``name`` (any case), or None."""
        return self._lookup.get(name.lower())

    def relationship(self, name: str) -> Field | None:
        """The reference field whose relationship is called ``name`` (any case)."""
        lowered = name.lower()
        for f in self.fields:
            if f.relationship and f.relationship.lower() == lowered:
                return f
        return None

    @property
    def stored_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.stored)


def _audit() -> tuple[Field, ...]:
    return (
        Field("OwnerId", "reference", createable=True, updateable=True, nillable=False,
              length=18, reference_to="User", relationship="Owner"),
        Field("CreatedDate", "datetime", nillable=False),
        Field("CreatedById", "reference", nillable=False, length=18, reference_to="User",
              relationship="CreatedBy"),
        Field("LastModifiedDate", "datetime", nillable=False),
        Field("LastModifiedById", "reference", nillable=False, length=18, reference_to="User",
              relationship="LastModifiedBy"),
        Field("SystemModstamp", "datetime", nillable=False),
        Field("IsDeleted", "boolean", nillable=False),
    )


_NAME = "TRIM(COALESCE({t}.\"FirstName\", '') || ' ' || COALESCE({t}.\"LastName\", ''))"


def _person_fields() -> tuple[Field, ...]:
    return (
        Field("FirstName", "string", createable=True, updateable=True, length=40),
        Field("LastName", "string", createable=True, updateable=True, nillable=False, length=80),
        Field("Name", "string", length=121, computed=_NAME),
        Field("Email", "email", createable=True, updateable=True, length=80),
        Field("HasOptedOutOfEmail", "boolean", createable=True, updateable=True, nillable=False),
        Field("EmailBouncedDate", "datetime", createable=True, updateable=True),
        Field("EmailBouncedReason", "string", createable=True, updateable=True, length=255),
        Field("IsEmailBounced", "boolean", nillable=False),
    )


ACCOUNT = SObject("Account", (
    Field("Id", "id", nillable=False, length=18),
    Field("Name", "string", createable=True, updateable=True, nillable=False, length=255),
    Field("Website", "url", createable=True, updateable=True, length=255),
    *_audit(),
), required=("Name",))

CONTACT = SObject("Contact", (
    Field("Id", "id", nillable=False, length=18),
    *_person_fields(),
    Field("AccountId", "reference", createable=True, updateable=True, length=18,
          reference_to="Account", relationship="Account"),
    *_audit(),
), required=("LastName",))

LEAD = SObject("Lead", (
    Field("Id", "id", nillable=False, length=18),
    *_person_fields(),
    Field("Company", "string", createable=True, updateable=True, nillable=False, length=255),
    Field("Status", "picklist", createable=True, updateable=True, nillable=False, length=255),
    Field("IsConverted", "boolean", nillable=False),
    Field("ConvertedDate", "date"),
    Field("ConvertedContactId", "reference", length=18, reference_to="Contact",
          relationship="ConvertedContact"),
    Field("ConvertedAccountId", "reference", length=18, reference_to="Account",
          relationship="ConvertedAccount"),
    *_audit(),
), required=("LastName", "Company"))


def _history(name: str, parent: str) -> SObject:
    return SObject(name, (
        Field("Id", "id", nillable=False, length=18),
        Field(f"{parent}Id", "reference", nillable=False, length=18, reference_to=parent,
              relationship=parent),
        Field("Field", "picklist", nillable=False, length=255),
        Field("DataType", "picklist", length=255),
        # anyType: Salesforce lets these be sorted but never filtered.
        Field("OldValue", "anyType", filterable=False),
        Field("NewValue", "anyType", filterable=False),
        Field("CreatedDate", "datetime", nillable=False),
        Field("CreatedById", "reference", nillable=False, length=18, reference_to="User",
              relationship="CreatedBy"),
        Field("IsDeleted", "boolean", nillable=False),
    ), createable=False, updateable=False, deletable=False, history_of=parent)


CONTACT_HISTORY = _history("ContactHistory", "Contact")
LEAD_HISTORY = _history("LeadHistory", "Lead")

OBJECTS: dict[str, SObject] = {o.name: o for o in
                               (ACCOUNT, CONTACT, LEAD, CONTACT_HISTORY, LEAD_HISTORY)}
HISTORY_OF = {"Contact": CONTACT_HISTORY, "Lead": LEAD_HISTORY}
_BY_LOWER = {name.lower(): obj for name, obj in OBJECTS.items()}


def sobject(name: str) -> SObject | None:
    """The object called ``name`` (any case), or None when the sandbox does not serve it."""
    return _BY_LOWER.get(name.lower())


def describe(obj: SObject, version: str) -> dict:
    """A minimal ``sobjects/{Object}/describe`` answer."""
    base = f"/services/data/v{version}/sobjects/{obj.name}"
    return {
        "name": obj.name,
        "label": obj.name,
        "keyPrefix": obj.key_prefix,
        "createable": obj.createable,
        "updateable": obj.updateable,
        "deletable": obj.deletable,
        "queryable": True,
        "retrieveable": True,
        "custom": False,
        "urls": {"sobject": base, "describe": f"{base}/describe", "rowTemplate": f"{base}/{{ID}}"},
        "fields": [{
            "name": f.name,
            "label": f.name,
            "type": f.type,
            "length": f.length,
            "createable": f.createable,
            "updateable": f.updateable,
            "nillable": f.nillable,
            "filterable": f.filterable,
            "sortable": f.sortable,
            "calculated": f.computed is not None,
            "referenceTo": [f.reference_to] if f.reference_to else [],
            "relationshipName": f.relationship,
        } for f in obj.fields],
    }
