"""The SOQL subset: what it answers (against the seeded store) and what it refuses."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.sandbox.ids import OTHER_USER
from core.sandbox.salesforce.soql import SOQLError, compile_query, decode_string, parse
from tests.sandbox.salesforce.org import contact_id, lead_id


def emails(store, soql: str, **kw) -> list:
    return [r.get("Email") for r in store.query(soql, **kw)]


# -- answers: one row per situation --------------------------------------------------------

@pytest.mark.parametrize("soql, expected", [
    # string comparisons ignore case, as SOQL's = and IN do
    ("SELECT Email FROM Contact WHERE Email = 'ADA@acme.EXAMPLE'", ["ada@acme.example"]),
    ("SELECT Email FROM Contact WHERE Email IN ('GRACE@ACME.EXAMPLE', 'nobody@x.example')",
     ["grace@acme.example"]),
    ("SELECT Email FROM Contact WHERE LastName LIKE 'tur%'", ["alan@acme.example"]),
    ("SELECT Email FROM Contact WHERE Name = 'ada lovelace'", ["ada@acme.example"]),
    # null is a value: != and NOT include records without an email
    ("SELECT LastName FROM Contact WHERE Email = null", None),
    ("SELECT Email FROM Contact WHERE Email != 'ada@acme.example' ORDER BY LastName",
     ["edsger@globex.example", "grace@acme.example", "barbara@liskov.example", None,
      "alan@acme.example"]),
    ("SELECT Email FROM Contact WHERE NOT (Email LIKE '%acme%') ORDER BY LastName",
     ["edsger@globex.example", "barbara@liskov.example", None]),
    ("SELECT Email FROM Contact WHERE Email NOT IN ('ada@acme.example', 'grace@acme.example', "
     "'alan@acme.example') ORDER BY Email NULLS LAST",
     ["barbara@liskov.example", "edsger@globex.example", None]),
    ("SELECT Email FROM Contact WHERE Email = ''", [None]),  # blank text is null
    # AND / OR with parentheses, relationship fields in WHERE
    ("SELECT Email FROM Contact WHERE (Account.Name = 'globex' OR Email LIKE 'ada%') "
     "AND IsDeleted = false ORDER BY Email DESC",
     ["edsger@globex.example", "ada@acme.example"]),
    ("SELECT Email FROM Lead WHERE IsConverted = false AND Company = 'independent' "
     "ORDER BY Email", ["don@taocp.example", "fran@ibm.example"]),
    # datetime and date literals
    ("SELECT Email FROM Lead WHERE ConvertedDate = 2026-01-20", ["alan@acme.example"]),
    ("SELECT Email FROM Contact WHERE CreatedDate < 2026-01-05T00:00:01Z AND "
     "SystemModstamp >= 2026-02-01T11:00:00+01:00 ORDER BY Email NULLS LAST LIMIT 2",
     ["ada@acme.example", "alan@acme.example"]),
    ("SELECT Email FROM Contact WHERE CreatedDate > 2026-01-05T00:00:00.000Z", []),
    # ORDER BY with several keys, NULLS FIRST/LAST, LIMIT and OFFSET
    ("SELECT Email FROM Contact ORDER BY Account.Name DESC NULLS LAST, Email ASC LIMIT 3 OFFSET 1",
     ["ada@acme.example", "alan@acme.example", "grace@acme.example"]),
    ("SELECT Email FROM Contact ORDER BY Email ASC NULLS LAST LIMIT 1 OFFSET 5", [None]),
    ("SELECT Email FROM Contact ORDER BY Email LIMIT 1", [None]),  # ASC puts nulls first
    # Ids: 15-character ids are accepted and mean the same record
    (f"SELECT Email FROM Contact WHERE Id = '{contact_id(1)[:15]}'", ["ada@acme.example"]),
    (f"SELECT Email FROM Lead WHERE Id IN ('{lead_id(1)}', '{lead_id(2)}') ORDER BY Id DESC",
     ["fran@ibm.example", "don@taocp.example"]),
])
def test_query_answers(sf_store, soql, expected):
    if expected is None:  # only the record without an email
        assert [r["LastName"] for r in sf_store.query(soql)] == ["Thompson"]
    else:
        assert emails(sf_store, soql) == expected


def test_relationship_is_nested_and_null_without_account(sf_store):
    rows = sf_store.query("SELECT Id, Account.Name, Account.Website FROM Contact "
                          "WHERE LastName IN ('Lovelace', 'Liskov') ORDER BY LastName")
    assert rows[0]["Account"] is None
    account = rows[1]["Account"]
    assert account["attributes"]["type"] == "Account"
    assert account["Name"] == "Acme" and account["Website"] == "acme.example"


def test_count_query(sf_store):
    plan = compile_query("SELECT COUNT() FROM Contact WHERE Email LIKE '%acme%'")
    assert plan.count_only and sf_store.query_count(plan) == 3


def test_deleted_rows_only_with_query_all(sf_store):
    sf_store.delete("Contact", contact_id(2))
    soql = "SELECT Email, IsDeleted FROM Contact WHERE Email LIKE 'grace%'"
    assert sf_store.query(soql) == []
    assert [r["IsDeleted"] for r in sf_store.query(soql, include_deleted=True)] == [True]


def test_history_is_queryable_but_values_not_filterable(sf_store):
    sf_store.update("Contact", contact_id(1), {"Email": "ada@new.example"}, user_id=OTHER_USER)
    rows = sf_store.query("SELECT ContactId, Field, OldValue, NewValue FROM ContactHistory "
                          "WHERE Field = 'Email' ORDER BY NewValue")
    assert [(r["ContactId"], r["OldValue"], r["NewValue"]) for r in rows] == [
        (contact_id(1), "ada@acme.example", "ada@new.example")]
    with pytest.raises(SOQLError) as err:
        compile_query("SELECT Id FROM ContactHistory WHERE NewValue = 'x@y.example'")
    assert err.value.error_code == "INVALID_FIELD"


# -- refusals: one row per kind of query the subset does not guess at ------------------------

@pytest.mark.parametrize("soql, code, says", [
    ("SELECT Id FROM Contact WHERE", "MALFORMED_QUERY", "unexpected token: '<EOF>'"),
    ("SELEC Id FROM Contact", "MALFORMED_QUERY", "unexpected token"),
    ("SELECT Id FROM Contact WHERE Email = 'a' AND LastName = 'b' OR FirstName = 'c'",
     "MALFORMED_QUERY", "parentheses"),
    ("SELECT Id FROM Contact GROUP BY AccountId", "MALFORMED_QUERY", "GROUP"),
    ("SELECT COUNT(Id) FROM Contact", "MALFORMED_QUERY", "COUNT()"),
    ("SELECT MAX(CreatedDate) FROM Contact", "MALFORMED_QUERY", "functions"),
    ("SELECT Id FROM Contact WHERE AccountId IN (SELECT Id FROM Account)", "MALFORMED_QUERY",
     "semi-joins"),
    ("SELECT Id FROM Contact WHERE CreatedDate = LAST_N_DAYS:30", "MALFORMED_QUERY",
     "date literals"),
    ("SELECT Id FROM Contact WHERE CreatedDate > TODAY", "MALFORMED_QUERY", "date literals"),
    ("SELECT Id FROM Contact WHERE Email = :email", "MALFORMED_QUERY", "bind variables"),
    ("SELECT Id FROM Contact c", "MALFORMED_QUERY", "aliases"),
    ("SELECT Id, Id FROM Contact", "MALFORMED_QUERY", "duplicate field"),
    ("SELECT Id FROM Contact WHERE Email = 'unterminated", "MALFORMED_QUERY", "unterminated"),
    ("SELECT Id FROM Contact WHERE Email = 'a\\qb'", "MALFORMED_QUERY", "Illegal character"),
    ("SELECT Id FROM Contact OFFSET 2001", "NUMBER_OUTSIDE_VALID_RANGE", "2000"),
    ("SELECT Id FROM Contact LIMIT -1", "MALFORMED_QUERY", "whole number"),
    ("SELECT Id, Account.Owner.Name FROM Contact", "MALFORMED_QUERY", "deeper"),
    ("", "MALFORMED_QUERY", "empty"),
    ("SELECT Nope FROM Contact", "INVALID_FIELD", "No such column 'Nope' on entity 'Contact'"),
    ("SELECT Foo.Name FROM Contact", "INVALID_FIELD", "Didn't understand relationship 'Foo'"),
    ("SELECT Account.Nope FROM Contact", "INVALID_FIELD", "No such column 'Nope'"),
    ("SELECT Id FROM Contact WHERE CreatedDate > '2024-01-01'", "INVALID_FIELD", "dateTime"),
    ("SELECT Id FROM Contact WHERE CreatedDate > 2024-01-01", "INVALID_FIELD", "dateTime"),
    ("SELECT Id FROM Contact WHERE IsDeleted = 'false'", "INVALID_FIELD", "boolean"),
    ("SELECT Id FROM Contact WHERE IsDeleted > true", "INVALID_FIELD", "operator"),
    ("SELECT Id FROM Contact WHERE LastName = 5", "INVALID_FIELD", "string"),
    ("SELECT Id FROM Contact WHERE CreatedDate LIKE '2024%'", "INVALID_FIELD", "LIKE"),
    ("SELECT Id FROM Contact WHERE Id = 'abc'", "INVALID_QUERY_FILTER_OPERATOR", "invalid ID"),
    ("SELECT Id FROM Opportunity", "INVALID_TYPE", "sObject type 'Opportunity' is not supported"),
])
def test_query_refusals(soql, code, says):
    with pytest.raises(SOQLError) as err:
        compile_query(soql)
    assert err.value.error_code == code
    assert says in err.value.message


def test_error_points_at_the_token():
    with pytest.raises(SOQLError) as err:
        parse("SELECT Id FROM Contact WHERE Email == 'x'")
    assert "ERROR at Row:1:Column:37" in err.value.message


def test_values_only_travel_as_parameters():
    hostile = "x' OR '1'='1"
    quoted = hostile.replace("'", "\\'")
    plan = compile_query(f"SELECT Id FROM Contact WHERE Email = '{quoted}'")
    assert hostile not in plan.ids_sql and "1'='1" not in plan.ids_sql
    assert hostile in plan.params


@pytest.mark.parametrize("raw, like, value", [
    (r"it\'s", False, "it's"),
    (r"a\\b", False, "a\\b"),
    (r"50\%", False, "50%"),
    (r"50\%", True, "50\\%"),  # stays escaped for LIKE ... ESCAPE '\'
    (r"\u00e9t\u00e9", False, "été"),
    (r"line\nbreak", False, "line\nbreak"),
])
def test_string_escapes(raw, like, value):
    assert decode_string(raw, like=like) == value


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(["ada@acme.example", "grace@acme.example", "edsger@globex.example"]),
       st.data())
def test_email_equality_ignores_any_casing(sf_store_module, email, data):
    upper = data.draw(st.lists(st.booleans(), min_size=len(email), max_size=len(email)))
    cased = "".join(c.upper() if up else c for c, up in zip(email, upper))
    assert emails(sf_store_module, f"SELECT Email FROM Contact WHERE Email = '{cased}'") == [email]
    assert emails(sf_store_module,
                  f"SELECT Email FROM Contact WHERE Email IN ('{cased}')") == [email]


@pytest.fixture(scope="module")
def sf_store_module():
    from core.sandbox.salesforce.store import SalesforceStore
    from tests.sandbox.salesforce.org import seed_rows
    store = SalesforceStore()
    accounts, records = seed_rows()
    store.load_accounts(accounts)
    store.load_records(records)
    yield store
    store.close()
