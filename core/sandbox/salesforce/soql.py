"""A SOQL subset, parsed and translated to parameterised SQL over the sandbox's store.

Supported, as real SOQL has it::

    SELECT Id, Email, Account.Name | COUNT()
    FROM Contact | Lead | Account | ContactHistory | LeadHistory
    [WHERE <condition>]          -- = != <> < > <= >= IN (...) NOT IN (...) LIKE, NOT,
                                 -- AND / OR with parentheses; string, number, true/false,
                                 -- null, date (2024-01-01) and datetime literals
    [ORDER BY f [ASC|DESC] [NULLS FIRST|LAST], ...] [LIMIT n] [OFFSET n]

Semantics follow Salesforce rather than SQL: string comparisons ignore case, ``null`` is a
value (``Email != 'x'`` includes records without an email), an empty string means null,
``AND`` and ``OR`` cannot be mixed without parentheses, and OFFSET stops at 2000. Anything
else is refused with :class:`SOQLError` (``MALFORMED_QUERY``, ``INVALID_FIELD``,
``INVALID_TYPE``) instead of being guessed at. Literal values only ever reach SQLite as
parameters; identifiers come from :mod:`core.sandbox.salesforce.schema`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone

from ..ids import to18
from . import schema

MAX_OFFSET = 2000
_ID_RE = re.compile(r"[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?\Z")


class SOQLError(Exception):
    """A query Salesforce (or this subset) rejects; ``error_code`` is the API's errorCode."""

    def __init__(self, error_code: str, message: str):
        super().__init__(message)
        self.error_code = error_code
        self.message = message


# -- tokens --------------------------------------------------------------------------------

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<string>'(?:[^'\\]|\\.)*')
  | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?(?:Z|[+-]\d{2}:?\d{2}))
  | (?P<date>\d{4}-\d{2}-\d{2})(?![\w:])
  | (?P<number>[+-]?\d+(?:\.\d+)?)(?![\w.])
  | (?P<op><=|>=|!=|<>|=|<|>)
  | (?P<punct>[(),])
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
""", re.X)

KEYWORDS = frozenset("""SELECT FROM WHERE AND OR NOT IN LIKE ORDER BY ASC DESC NULLS FIRST LAST
    LIMIT OFFSET TRUE FALSE NULL COUNT""".split())
# Words of SOQL this subset knows it does not do; named in the error so nobody guesses.
UNSUPPORTED = frozenset("""GROUP HAVING WITH FOR USING TYPEOF INCLUDES EXCLUDES ROLLUP CUBE
    FORMAT CONVERTCURRENCY TOLABEL FIELDS UPDATE VIEW REFERENCE TRACKING""".split())


@dataclass(frozen=True)
class Token:
    kind: str  # string datetime date number op punct name keyword eof
    text: str
    pos: int

    @property
    def upper(self) -> str:
        return self.text.upper()


def tokenize(soql: str) -> list[Token]:
    """Split a query into tokens; an unexpected character is a MALFORMED_QUERY."""
    tokens: list[Token] = []
    pos = 0
    while pos < len(soql):
        match = _TOKEN.match(soql, pos)
        if not match:
            if soql[pos] == "'":
                raise _malformed(soql, pos, "unterminated string literal")
            if soql[pos] == ":":
                raise _malformed(soql, pos, "bind variables and date literals such as "
                                            "LAST_N_DAYS:n are not supported by the sandbox")
            raise _malformed(soql, pos, f"unexpected token: '{soql[pos]}'")
        kind = match.lastgroup or ""
        if kind != "space":
            text = match.group(kind)
            if kind == "name" and text.upper() in KEYWORDS:
                kind = "keyword"
            tokens.append(Token(kind, text, pos))
        pos = match.end()
    tokens.append(Token("eof", "<EOF>", len(soql)))
    return tokens


def _where(soql: str, pos: int) -> str:
    row = soql.count("\n", 0, pos) + 1
    line_start = soql.rfind("\n", 0, pos) + 1
    line_end = soql.find("\n", pos)
    line = soql[line_start: line_end if line_end >= 0 else len(soql)]
    column = pos - line_start
    return f"\n{line}\n{' ' * column}^\nERROR at Row:{row}:Column:{column + 1}\n"


def _malformed(soql: str, pos: int, message: str) -> SOQLError:
    return SOQLError("MALFORMED_QUERY", _where(soql, pos) + message)


def _invalid_field(soql: str, pos: int, message: str) -> SOQLError:
    return SOQLError("INVALID_FIELD", _where(soql, pos) + message)


# -- syntax tree ---------------------------------------------------------------------------

@dataclass(frozen=True)
class FieldPath:
    text: str  # as written, e.g. "account.name"
    pos: int


@dataclass(frozen=True)
class Literal:
    kind: str  # string datetime date number boolean null
    value: object
    raw: str  # string literals: the text between the quotes, escapes undecoded
    pos: int


@dataclass(frozen=True)
class Comparison:
    field: FieldPath
    op: str  # = != < > <= >= IN NOT IN LIKE
    value: Literal | tuple[Literal, ...]


@dataclass(frozen=True)
class BoolOp:
    op: str  # AND OR
    terms: tuple


@dataclass(frozen=True)
class Not:
    term: object


@dataclass(frozen=True)
class OrderItem:
    field: FieldPath
    descending: bool
    nulls_first: bool


@dataclass(frozen=True)
class Query:
    fields: tuple[FieldPath, ...]  # empty for COUNT()
    count_only: bool
    object: str
    object_pos: int
    where: object | None
    order: tuple[OrderItem, ...]
    limit: int | None
    offset: int | None


class _Parser:
    def __init__(self, soql: str):
        self.soql = soql
        self.tokens = tokenize(soql)
        self.i = 0

    # helpers
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def error(self, message: str | None = None, token: Token | None = None) -> SOQLError:
        token = token or self.tok
        if message is None:
            if token.kind == "name" and token.upper in UNSUPPORTED:
                message = f"{token.upper} is not supported by the sandbox's SOQL subset"
            else:
                message = f"unexpected token: '{token.text}'"
        return _malformed(self.soql, token.pos, message)

    def next(self) -> Token:
        token = self.tok
        self.i += 1
        return token

    def at(self, *words: str) -> bool:
        return self.tok.kind == "keyword" and self.tok.upper in words

    def expect(self, word: str) -> Token:
        if not self.at(word):
            raise self.error()
        return self.next()

    def integer(self) -> int:
        token = self.next()
        if token.kind != "number" or not token.text.isdigit():
            raise self.error(f"expected a non-negative whole number, found '{token.text}'", token)
        return int(token.text)

    # grammar
    def query(self) -> Query:
        self.expect("SELECT")
        fields: list[FieldPath] = []
        count_only = False
        if self.at("COUNT"):
            self.next()
            if not (self.tok.text == "(" and self.tokens[self.i + 1].text == ")"):
                raise self.error("only COUNT() without a field is supported by the sandbox")
            self.i += 2
            count_only = True
        else:
            while True:
                token = self.next()
                if token.kind != "name":
                    raise self.error(None, token)
                if self.tok.text == "(":
                    raise self.error(f"functions such as {token.text}() are not supported by "
                                     "the sandbox's SOQL subset", token)
                fields.append(FieldPath(token.text, token.pos))
                if self.tok.text != ",":
                    break
                self.next()
        self.expect("FROM")
        obj = self.next()
        if obj.kind != "name":
            raise self.error(None, obj)
        if self.tok.text == "," or (self.tok.kind == "name" and self.tok.upper not in UNSUPPORTED):
            raise self.error("aliases and several objects in FROM are not supported by the sandbox")
        where = None
        if self.at("WHERE"):
            self.next()
            where = self.condition()
        order: list[OrderItem] = []
        if self.at("ORDER"):
            self.next()
            self.expect("BY")
            while True:
                token = self.next()
                if token.kind != "name":
                    raise self.error(None, token)
                descending = False
                if self.at("ASC", "DESC"):
                    descending = self.next().upper == "DESC"
                nulls_first = not descending
                if self.at("NULLS"):
                    self.next()
                    if not self.at("FIRST", "LAST"):
                        raise self.error()
                    nulls_first = self.next().upper == "FIRST"
                order.append(OrderItem(FieldPath(token.text, token.pos), descending, nulls_first))
                if self.tok.text != ",":
                    break
                self.next()
        limit = offset = None
        if self.at("LIMIT"):
            self.next()
            limit = self.integer()
        if self.at("OFFSET"):
            token = self.next()
            offset = self.integer()
            if offset > MAX_OFFSET:
                raise SOQLError("NUMBER_OUTSIDE_VALID_RANGE", _where(self.soql, token.pos)
                                + f"Maximum SOQL offset allowed is {MAX_OFFSET}")
        if self.tok.kind != "eof":
            raise self.error()
        return Query(tuple(fields), count_only, obj.text, obj.pos, where, tuple(order), limit,
                     offset)

    def condition(self):
        terms = [self.unary()]
        connective = None
        while self.at("AND", "OR"):
            token = self.next()
            if connective and token.upper != connective:
                # SOQL gives AND and OR no precedence: mixing them needs parentheses.
                raise self.error(f"unexpected token: '{token.text}' (use parentheses to "
                                 "combine AND and OR)", token)
            connective = token.upper
            terms.append(self.unary())
        return terms[0] if connective is None else BoolOp(connective, tuple(terms))

    def unary(self):
        if self.at("NOT"):
            self.next()
            return Not(self.unary())
        if self.tok.text == "(":
            self.next()
            inner = self.condition()
            if self.tok.text != ")":
                raise self.error()
            self.next()
            return inner
        return self.comparison()

    def comparison(self) -> Comparison:
        token = self.next()
        if token.kind != "name":
            raise self.error(None, token)
        path = FieldPath(token.text, token.pos)
        if self.tok.kind == "op":
            op = self.next().text
            return Comparison(path, "!=" if op == "<>" else op, self.literal())
        if self.at("LIKE"):
            self.next()
            return Comparison(path, "LIKE", self.literal())
        negate = False
        if self.at("NOT"):
            self.next()
            negate = True
            if not self.at("IN"):
                raise self.error()
        if self.at("IN"):
            self.next()
            if self.tok.text != "(":
                raise self.error()
            self.next()
            if self.at("SELECT"):
                raise self.error("semi-joins (IN (SELECT ...)) are not supported by the sandbox")
            values = [self.literal()]
            while self.tok.text == ",":
                self.next()
                values.append(self.literal())
            if self.tok.text != ")":
                raise self.error()
            self.next()
            return Comparison(path, "NOT IN" if negate else "IN", tuple(values))
        raise self.error()

    def literal(self) -> Literal:
        token = self.next()
        if token.kind == "string":
            return Literal("string", None, token.text[1:-1], token.pos)
        if token.kind == "number":
            value = float(token.text) if "." in token.text else int(token.text)
            return Literal("number", value, token.text, token.pos)
        if token.kind == "datetime":
            text = token.text.replace("Z", "+00:00")
            try:
                when = datetime.fromisoformat(text).astimezone(timezone.utc)
            except ValueError:
                raise self.error(f"invalid datetime: {token.text}", token) from None
            return Literal("datetime", format_datetime(when), token.text, token.pos)
        if token.kind == "date":
            try:
                datetime.strptime(token.text, "%Y-%m-%d")
            except ValueError:
                raise self.error(f"invalid date: {token.text}", token) from None
            return Literal("date", token.text, token.text, token.pos)
        if token.kind == "keyword" and token.upper in ("TRUE", "FALSE"):
            return Literal("boolean", token.upper == "TRUE", token.text, token.pos)
        if token.kind == "keyword" and token.upper == "NULL":
            return Literal("null", None, token.text, token.pos)
        if token.kind == "name" and (token.upper.startswith(("LAST_", "NEXT_", "THIS_"))
                                     or token.upper in ("TODAY", "YESTERDAY", "TOMORROW")):
            raise self.error(f"date literals such as {token.text} are not supported by the "
                             "sandbox; use an explicit datetime", token)
        raise self.error(None, token)


def parse(soql: str) -> Query:
    """Parse a query of the supported subset, or raise :class:`SOQLError`."""
    if not soql or not soql.strip():
        raise SOQLError("MALFORMED_QUERY", "The query is empty")
    return _Parser(soql).query()


def format_datetime(when: datetime) -> str:
    """A datetime in the wire format ``2013-05-20T20:49:32.000+0000`` (UTC)."""
    when = when.astimezone(timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}+0000"


_ESCAPES = {"n": "\n", "N": "\n", "r": "\r", "R": "\r", "t": "\t", "T": "\t", "b": "\b",
            "B": "\b", "f": "\f", "F": "\f", '"': '"', "'": "'", "\\": "\\"}


def decode_string(raw: str, *, like: bool = False) -> str:
    """The value of a quoted SOQL string; in LIKE patterns ``\\%`` and ``\\_`` stay escaped."""
    if "\\" not in raw:
        return raw
    out = []
    i = 0
    while i < len(raw):
        ch = raw[i]
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        nxt = raw[i + 1]
        if nxt in _ESCAPES:
            # A literal backslash must stay escaped inside a LIKE pattern.
            out.append("\\\\" if like and nxt == "\\" else _ESCAPES[nxt])
            i += 2
        elif nxt in "%_":
            out.append("\\" + nxt if like else nxt)
            i += 2
        elif nxt in "uU" and re.fullmatch(r"[0-9a-fA-F]{4}", raw[i + 2:i + 6]):
            out.append(chr(int(raw[i + 2:i + 6], 16)))
            i += 6
        else:
            raise SOQLError("MALFORMED_QUERY", f"Invalid string literal '{raw}'. Illegal "
                                               f"character sequence '\\{nxt}' in string literal.")
    return "".join(out)


# -- translation ---------------------------------------------------------------------------

MAIN = "m"


@dataclass(frozen=True)
class Column:
    """One selected field: where its value comes from and where it goes in the record."""

    path: tuple[str, ...]  # canonical: ("Email",) or ("Account", "Name")
    field: schema.Field
    sql: str
    target: schema.SObject | None = None  # the related object for relationship fields


@dataclass
class CompiledQuery:
    """A query ready to run: SQL for the matching rowids and for fetching a page of them.

    ``ids_sql`` returns the ordered rowids (the cursor is materialised once); ``fetch_sql``
    takes one parameter, a JSON array of rowids, and returns ``[rowid, Id, <related ids>...,
    <selected values>...]`` per row in :attr:`row_layout` order.
    """

    soql: str
    sobject: schema.SObject
    columns: list[Column]
    count_only: bool
    ids_sql: str
    params: list
    count_sql: str
    fetch_sql: str
    relationships: list[tuple[str, schema.SObject]] = field(default_factory=list)
    # Like fetch_sql, but ``[rowid, <the wire record as JSON text>]`` built by SQLite itself;
    # takes ``:url`` (the sObjects URL prefix) and ``:ids``. None when the record would need
    # more arguments than SQLite's json_object accepts.
    json_sql: str | None = None

    @property
    def header(self) -> list[str]:
        """Column names as Bulk API CSV headers (``Account.Name``)."""
        return [".".join(c.path) for c in self.columns]


class _Compiler:
    def __init__(self, soql: str, query: Query, include_deleted: bool):
        self.soql = soql
        self.query = query
        self.include_deleted = include_deleted
        self.params: list = []
        obj = schema.sobject(query.object)
        if obj is None:
            raise SOQLError("INVALID_TYPE", _where(soql, query.object_pos)
                            + f"sObject type '{query.object}' is not supported. If you are "
                              "attempting to use a custom object, be sure to append the '__c' "
                              "after the entity name.")
        self.obj = obj
        self.joins: dict[str, tuple[schema.Field, schema.SObject, str]] = {}

    def resolve(self, path: FieldPath) -> Column:
        parts = path.text.split(".")
        if len(parts) == 2 and parts[0].lower() == self.obj.name.lower():
            parts = parts[1:]  # "Contact.Email" FROM Contact
        if len(parts) == 1:
            f = self.obj.field(parts[0])
            if f is None:
                raise _invalid_field(self.soql, path.pos,
                                     f"No such column '{parts[0]}' on entity '{self.obj.name}'. "
                                     "If you are attempting to use a custom field, be sure to "
                                     "append the '__c' after the custom field name. Please "
                                     "reference your WSDL or the describe call for the "
                                     "appropriate names.")
            return Column((f.name,), f, self._sql(MAIN, f))
        if len(parts) == 2:
            ref = self.obj.relationship(parts[0])
            target = schema.sobject(ref.reference_to) if ref and ref.reference_to else None
            if ref is None or target is None:
                raise _invalid_field(self.soql, path.pos,
                                     f"Didn't understand relationship '{parts[0]}' in field path. "
                                     "If you are attempting to use a custom relationship, be sure "
                                     "to append the '__r' after the custom relationship name.")
            f = target.field(parts[1])
            if f is None:
                raise _invalid_field(self.soql, path.pos,
                                     f"No such column '{parts[1]}' on entity '{target.name}'.")
            alias = self._join(ref, target)
            return Column((ref.relationship or "", f.name), f, self._sql(alias, f), target)
        raise _malformed(self.soql, path.pos, "relationship paths deeper than one level are "
                                              "not supported by the sandbox")

    def _join(self, ref: schema.Field, target: schema.SObject) -> str:
        name = ref.relationship or ref.name
        if name not in self.joins:
            self.joins[name] = (ref, target, f"r{len(self.joins)}")
        return self.joins[name][2]

    @staticmethod
    def _sql(alias: str, f: schema.Field) -> str:
        if f.computed:
            return f"({f.computed.format(t=alias)})"
        return f'{alias}."{f.name}"'

    # WHERE --------------------------------------------------------------------------------
    def condition(self, node) -> str:
        if isinstance(node, BoolOp):
            return "(" + f" {node.op} ".join(self.condition(t) for t in node.terms) + ")"
        if isinstance(node, Not):
            return f"(NOT {self.condition(node.term)})"
        return self.comparison(node)

    def comparison(self, cmp: Comparison) -> str:
        column = self.resolve(cmp.field)
        f = column.field
        if not f.filterable:
            raise _invalid_field(self.soql, cmp.field.pos,
                                 f"field '{f.name}' can not be filtered in query call")
        # Comparisons are written so that they are never SQL NULL: SOQL treats null as a
        # value, so NOT (Email = 'x') must include records without an email.
        left = column.sql + (" COLLATE NOCASE" if f.is_text else "")
        if cmp.op in ("IN", "NOT IN"):
            literals = cmp.value if isinstance(cmp.value, tuple) else (cmp.value,)
            values = [self.value(f, lit, cmp.field) for lit in literals]
            present = [v for v in values if v is not None]
            parts = []
            if present:
                self.params.extend(present)
                marks = ", ".join("?" * len(present))
                parts.append(f"({column.sql} IS NOT NULL AND {left} IN ({marks}))")
            if len(present) < len(values):
                parts.append(f"{column.sql} IS NULL")
            expr = "(" + " OR ".join(parts) + ")"
            return f"(NOT {expr})" if cmp.op == "NOT IN" else expr
        literal = cmp.value
        assert isinstance(literal, Literal)
        if cmp.op == "LIKE":
            if not (f.is_text or f.type in schema.ID_TYPES) or literal.kind != "string":
                raise _invalid_field(self.soql, cmp.field.pos,
                                     f"invalid operator on {f.type} field: LIKE")
            self.params.append(decode_string(literal.raw, like=True))
            return f"({column.sql} IS NOT NULL AND {column.sql} LIKE ? ESCAPE '\\')"
        value = self.value(f, literal, cmp.field)
        if f.type == "boolean" and cmp.op not in ("=", "!="):
            raise _invalid_field(self.soql, cmp.field.pos,
                                 f"invalid operator on boolean field: {cmp.op}")
        if value is None:
            if cmp.op == "=":
                return f"({column.sql} IS NULL)"
            if cmp.op == "!=":
                return f"({column.sql} IS NOT NULL)"
            return "(0)"  # null is neither greater nor smaller than anything
        self.params.append(value)
        if cmp.op == "=":
            return f"({left} IS ?)"
        if cmp.op == "!=":
            return f"({left} IS NOT ?)"
        return f"({column.sql} IS NOT NULL AND {left} {cmp.op} ?)"

    def value(self, f: schema.Field, lit: Literal, path: FieldPath):
        """The SQL parameter for a literal compared with ``f``, checked as SOQL checks it."""
        if lit.kind == "null":
            return None
        kind = f.type
        if f.is_text or kind in schema.ID_TYPES:
            if lit.kind != "string":
                raise _invalid_field(self.soql, lit.pos,
                                     f"value of filter criterion for field '{f.name}' must be of "
                                     "type string and should be enclosed in quotes")
            text = decode_string(lit.raw)
            if text == "":
                return None  # Salesforce stores blank text as null
            if kind in schema.ID_TYPES:
                if not _ID_RE.match(text):
                    raise SOQLError("INVALID_QUERY_FILTER_OPERATOR",
                                    _where(self.soql, lit.pos) + f"invalid ID field: {text}")
                return to18(text)
            return text
        if kind == "boolean":
            if lit.kind != "boolean":
                raise _invalid_field(self.soql, lit.pos,
                                     f"value of filter criterion for field '{f.name}' must be of "
                                     "type boolean and should not be enclosed in quotes")
            return 1 if lit.value else 0
        if kind == "datetime":
            if lit.kind != "datetime":
                raise _invalid_field(self.soql, lit.pos,
                                     f"value of filter criterion for field '{f.name}' must be of "
                                     "type dateTime and should not be enclosed in quotes")
            return lit.value
        if kind == "date":
            if lit.kind != "date":
                raise _invalid_field(self.soql, lit.pos,
                                     f"value of filter criterion for field '{f.name}' must be of "
                                     "type date and should not be enclosed in quotes")
            return lit.value
        raise _invalid_field(self.soql, path.pos, f"field '{f.name}' can not be filtered")

    # whole query ---------------------------------------------------------------------------
    def compile(self) -> CompiledQuery:
        q = self.query
        columns: list[Column] = []
        seen: set[tuple[str, ...]] = set()
        for path in q.fields:
            column = self.resolve(path)
            if column.path in seen:
                raise _malformed(self.soql, path.pos, f"duplicate field selected: {path.text}")
            seen.add(column.path)
            columns.append(column)
        where = self.condition(q.where) if q.where is not None else None
        order_sql = []
        for item in q.order:
            column = self.resolve(item.field)
            if not column.field.sortable:
                raise _invalid_field(self.soql, item.field.pos,
                                     f"field '{column.field.name}' can not be sorted in a "
                                     "query call")
            collate = " COLLATE NOCASE" if column.field.is_text else ""
            order_sql.append(f"{column.sql}{collate} {'DESC' if item.descending else 'ASC'} "
                             f"NULLS {'FIRST' if item.nulls_first else 'LAST'}")
        order_sql.append(f"{MAIN}.rowid")  # a stable order for cursors

        joins = "".join(
            f' LEFT JOIN {target.table} AS {alias} ON {alias}."Id" = {MAIN}."{ref.name}"'
            for ref, target, alias in self.joins.values())
        conditions = [] if self.include_deleted else [f'{MAIN}."IsDeleted" = 0']
        if where:
            conditions.append(where)
        where_sql = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        source = f"FROM {self.obj.table} AS {MAIN}{joins}{where_sql}"
        tail = ""
        params = list(self.params)
        if q.limit is not None or q.offset is not None:
            tail = " LIMIT ? OFFSET ?"
            params += [-1 if q.limit is None else q.limit, q.offset or 0]
        ids_sql = f"SELECT {MAIN}.rowid {source} ORDER BY {', '.join(order_sql)}{tail}"
        count_sql = f"SELECT COUNT(*) FROM (SELECT 1 {source}{tail})"

        related = [(name, alias) for name, (_, _, alias) in self.joins.items()]
        select = [f"{MAIN}.rowid", f'{MAIN}."Id"'] + [f'{alias}."Id"' for _, alias in related]
        select += [c.sql for c in columns]
        fetch_sql = (f"SELECT {', '.join(select)} FROM {self.obj.table} AS {MAIN}{joins} "
                     f"WHERE {MAIN}.rowid IN (SELECT value FROM json_each(?))")
        return CompiledQuery(self.soql, self.obj, columns, q.count_only, ids_sql, params,
                             count_sql, fetch_sql,
                             [(name, self.joins[name][1]) for name, _ in related],
                             self._json_sql(columns, joins))

    def _json_sql(self, columns: list[Column], joins: str) -> str | None:
        """SQL building each wire record (``attributes`` first, nested relationships where
        first selected, booleans as JSON booleans) so a page needs no Python per record."""
        def attributes(obj: schema.SObject, id_sql: str) -> str:
            return f"json_object('attributes', json_object('type', {_literal(obj.name)}, " \
                   f"'url', :url || {_literal(obj.name + '/')} || {id_sql})"

        def value(column: Column) -> str:
            if column.field.type == "boolean":
                return (f"CASE WHEN {column.sql} IS NULL THEN NULL WHEN {column.sql} "
                        "THEN json('true') ELSE json('false') END")
            return column.sql

        members: dict[str, list[str]] = {}  # key -> its value's SQL (nested: its parts)
        for column in columns:
            key = column.path[0]
            if len(column.path) == 1:
                members[key] = [value(column)]
            else:
                members.setdefault(key, []).append(f"{_literal(column.path[1])}, {value(column)}")
        parts, arguments = [], 2
        for key, sql in members.items():
            if key in self.joins:
                _, target, alias = self.joins[key]
                nested = attributes(target, f'{alias}."Id"') + ", " + ", ".join(sql) + ")"
                sql = [f'CASE WHEN {alias}."Id" IS NULL THEN NULL ELSE {nested} END']
                arguments = max(arguments, 2 + 2 * len(members[key]))
            parts.append(f"{_literal(key)}, {sql[0]}")
        arguments = max(arguments, 2 + 2 * len(parts))
        if arguments > _JSON_OBJECT_MAX_ARGS:
            return None
        record = attributes(self.obj, f'{MAIN}."Id"') + "".join(f", {p}" for p in parts) + ")"
        return (f"SELECT {MAIN}.rowid, {record} FROM {self.obj.table} AS {MAIN}{joins} "
                f"WHERE {MAIN}.rowid IN (SELECT value FROM json_each(:ids))")


# SQLite's default limit on a function's arguments (SQLITE_MAX_FUNCTION_ARG).
_JSON_OBJECT_MAX_ARGS = 127


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def compile_query(soql: str, *, include_deleted: bool = False) -> CompiledQuery:
    """Parse and translate a query; ``include_deleted`` is queryAll's behaviour."""
    query = parse(soql)
    if not query.count_only and not query.fields:
        raise SOQLError("MALFORMED_QUERY", "SELECT needs at least one field")
    return _Compiler(soql, query, include_deleted).compile()
