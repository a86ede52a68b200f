"""Synthetic pairs written straight into a cache with SQL (a million in seconds).

Only the columns the window reads are realistic; the engine never runs on these rows.
"""

from __future__ import annotations

import time

from core.store.cache import Cache

FIRST = ("Ada", "Ben", "Cleo", "Dev", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jun", "Kai", "Lea",
         "Max", "Nia", "Oli", "Pia", "Quin", "Rae", "Sol", "Tom", "Uma", "Vic", "Wes", "Xia",
         "Yan", "Zoe")
LAST = ("Smith", "Jones", "Garcia", "Muller", "Rossi", "Novak", "Kim", "Silva", "Dubois",
        "Berg", "Okafor", "Tanaka", "Hughes", "Lopez", "Ivanova", "Chen")
COMPANIES = ("Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Stark", "Wayne",
             "Tyrell", "Cyberdyne", "Soylent", "Wonka")


def _lookup(conn, name: str, values) -> None:
    conn.execute(f"DROP TABLE IF EXISTS temp.{name}")
    conn.execute(f"CREATE TEMP TABLE {name} (k INTEGER PRIMARY KEY, v TEXT NOT NULL)")
    conn.executemany(f"INSERT INTO temp.{name} VALUES (?, ?)", list(enumerate(values)))


def synthesize_lean(cache: Cache, pairs: int) -> float:
    """Decision rows only, with short text and no links (for model tests at a million rows:
    about six seconds). Every 17th pair is chosen, the rest open."""
    started = time.perf_counter()
    with cache.transaction():
        cache.conn.execute(f"""INSERT INTO decisions (link_id, name, company, apollo_email,
            sf_email, conflict, native_winner, native_rule, rec_winner, rec_rule, strength,
            reason, choice, status, decided_at)
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {pairs})
            SELECT i, 'P' || i, 'C' || (i % 100), 'a' || i || '@x.io', 'b' || i || '@x.io', 0,
                   'apollo', 'ONE_SIDED', 'apollo', 'ONE_SIDED', 'strong', '',
                   CASE WHEN i % 17 = 0 THEN 'salesforce' END,
                   CASE WHEN i % 17 = 0 THEN 'chosen' ELSE 'open' END, '' FROM n""")
    return time.perf_counter() - started


def synthesize(cache: Cache, pairs: int, *, agreeing: int = 0, records: bool = False) -> float:
    """Write ``pairs`` differing pairs (decision rows and links) and ``agreeing`` pairs that
    agree (links and records, no decision). ``records`` also writes both records of every
    differing pair. Statuses: mostly open, every 17th chosen, every 50th in sync, every
    97th failed. Returns the seconds it took."""
    started = time.perf_counter()
    conn = cache.conn
    for name, values in (("synth_first", FIRST), ("synth_last", LAST), ("synth_co", COMPANIES)):
        _lookup(conn, name, values)
    names = ("JOIN temp.synth_first f ON f.k = n.i % 26 "
             "JOIN temp.synth_last l ON l.k = (n.i / 26) % 16 "
             "JOIN temp.synth_co c ON c.k = (n.i / 7) % 12")
    with cache.transaction():
        conn.execute(f"""
        INSERT INTO decisions (link_id, name, company, apollo_email, sf_email, sf_object, conflict,
            native_winner, native_email, native_rule, in_flight, rec_winner, rec_email, rec_rule,
            strength, reason, hints, choice, status, error, decided_at)
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {pairs}),
        p(i, first, last, co) AS MATERIALIZED (SELECT n.i, f.v, l.v, c.v FROM n {names})
        SELECT i, first || ' ' || last, co || ' ' || ((i / 7) % 997),
            lower(first) || '.' || lower(last) || i || '@' || lower(co) || '.com',
            lower(substr(first, 1, 1)) || lower(last) || i || '@' || lower(co) || '.io',
            CASE i % 3 WHEN 0 THEN 'Lead' ELSE 'Contact' END, i % 5 = 0,
            CASE i % 4 WHEN 0 THEN 'salesforce' WHEN 3 THEN 'none' ELSE 'apollo' END, NULL,
            CASE i % 6 WHEN 0 THEN 'LAST_EDIT' WHEN 1 THEN 'UNKNOWN_ORDER' ELSE 'ONE_SIDED' END,
            0, CASE i % 4 WHEN 0 THEN 'salesforce' WHEN 3 THEN 'none' ELSE 'apollo' END, NULL,
            CASE i % 6 WHEN 0 THEN 'LAST_EDIT' WHEN 1 THEN 'UNKNOWN_ORDER' ELSE 'ONE_SIDED' END,
            CASE i % 4 WHEN 3 THEN 'review' WHEN 2 THEN 'medium' ELSE 'strong' END,
            'ONE_SIDED: only one side changed since both agreed.', '',
            CASE WHEN i % 17 = 0 THEN 'salesforce' END,
            CASE WHEN i % 50 = 0 THEN 'in_sync' WHEN i % 17 = 0 THEN 'chosen'
                 WHEN i % 97 = 0 THEN 'failed' ELSE 'open' END,
            CASE WHEN i % 97 = 0 AND i % 17 != 0 AND i % 50 != 0
                 THEN 'Salesforce refused the write' END,
            '2026-01-01T00:00:00.000Z'
        FROM p""")
        conn.execute("INSERT INTO links (link_id, apollo_id, sf_id, method) "
                     "SELECT link_id, 'a' || link_id, 's' || link_id, 'crm_id' FROM decisions")
        if records:
            _records(conn, "SELECT link_id AS i, name, company, apollo_email AS ae, "
                           "sf_email AS se FROM decisions")
        if agreeing:
            conn.execute(f"""
            CREATE TEMP TABLE agree AS
            WITH RECURSIVE n(i) AS (SELECT {pairs} + 1 UNION ALL SELECT i + 1 FROM n
                                    WHERE i < {pairs + agreeing})
            SELECT n.i AS i, f.v || ' ' || l.v AS name, c.v AS company,
                   'same' || n.i || '@example.com' AS ae, 'same' || n.i || '@example.com' AS se
            FROM n {names}""")
            conn.execute("INSERT INTO links (link_id, apollo_id, sf_id, method) "
                         "SELECT i, 'a' || i, 's' || i, 'crm_id' FROM temp.agree")
            _records(conn, "SELECT * FROM temp.agree")
            conn.execute("DROP TABLE temp.agree")
    return time.perf_counter() - started


def _records(conn, source: str) -> None:
    conn.execute(f"""INSERT INTO apollo_contacts (id, first_name, last_name, organization_name,
        email, email_key, email_status, pulled_at)
        SELECT 'a' || i, substr(name, 1, instr(name, ' ') - 1), substr(name, instr(name, ' ') + 1),
               company, ae, lower(ae), 'verified', '2026-01-01T00:00:00.000Z' FROM ({source})""")
    conn.execute(f"""INSERT INTO sf_records (id, object, first_name, last_name, company, email,
        email_key, pulled_at)
        SELECT 's' || i, 'Contact', substr(name, 1, instr(name, ' ') - 1),
               substr(name, instr(name, ' ') + 1), company, se, lower(se),
               '2026-01-01T00:00:00.000Z' FROM ({source})""")
