"""The cache's schema, one step per version: ``MIGRATIONS[n]`` turns version ``n`` into
``n + 1``. A new version appends a step here and never edits an earlier one (caches on users'
machines have run them). :func:`migrate` runs the steps a file lacks, each in its own
transaction, after checking the file is a Concord cache (``PRAGMA application_id``).
"""

from __future__ import annotations

import sqlite3

import sqlite_utils

APPLICATION_ID = 0x434F4E43  # "CONC": marks a file as a Concord cache
SCHEMA_VERSION = 5


def _v1_records(db: sqlite_utils.Database) -> None:
    """Version 1: the records as pulled, their email history, observations, sync state."""
    db.execute("""
        CREATE TABLE apollo_contacts (
            id TEXT PRIMARY KEY,
            first_name TEXT NOT NULL DEFAULT '',
            last_name TEXT NOT NULL DEFAULT '',
            organization_name TEXT NOT NULL DEFAULT '',
            email TEXT,
            email_key TEXT NOT NULL DEFAULT '',
            email_status TEXT,
            email_from_customer INTEGER NOT NULL DEFAULT 0,
            contact_stage_id TEXT,
            salesforce_id TEXT,
            salesforce_lead_id TEXT,
            salesforce_contact_id TEXT,
            created_at TEXT,
            updated_at TEXT,
            raw_hash INTEGER,
            pulled_at TEXT NOT NULL,
            seq INTEGER NOT NULL DEFAULT 0
        ) WITHOUT ROWID""")
    db.execute("""
        CREATE TABLE sf_records (
            id TEXT PRIMARY KEY,
            object TEXT NOT NULL CHECK (object IN ('Lead', 'Contact')),
            first_name TEXT NOT NULL DEFAULT '',
            last_name TEXT NOT NULL DEFAULT '',
            company TEXT NOT NULL DEFAULT '',
            account_id TEXT,
            email TEXT,
            email_key TEXT NOT NULL DEFAULT '',
            bounced_at TEXT,
            bounce_reason TEXT,
            is_converted INTEGER NOT NULL DEFAULT 0,
            converted_contact_id TEXT,
            created_at TEXT,
            created_by_id TEXT,
            last_modified_at TEXT,
            last_modified_by_id TEXT,
            system_modstamp TEXT,
            is_deleted INTEGER NOT NULL DEFAULT 0,
            raw_hash INTEGER,
            pulled_at TEXT NOT NULL,
            seq INTEGER NOT NULL DEFAULT 0
        ) WITHOUT ROWID""")
    # The full API answers, kept apart so the tables the engine scans stay narrow.
    db.execute("CREATE TABLE apollo_raw (id TEXT PRIMARY KEY, raw TEXT NOT NULL)")
    db.execute("CREATE TABLE sf_raw (id TEXT PRIMARY KEY, raw TEXT NOT NULL)")
    db.execute("""
        CREATE TABLE sf_email_history (
            id TEXT PRIMARY KEY,
            record_id TEXT NOT NULL,
            old_value TEXT,
            new_value TEXT,
            new_key TEXT NOT NULL DEFAULT '',
            changed_at TEXT NOT NULL,
            changed_by TEXT
        )""")
    db.execute("""
        CREATE TABLE observations (
            side TEXT NOT NULL CHECK (side IN ('apollo', 'salesforce')),
            record_id TEXT NOT NULL,
            email_key TEXT NOT NULL,
            email TEXT,
            first_seen_at TEXT NOT NULL,
            prior_seen_at TEXT,
            PRIMARY KEY (side, record_id, email_key)
        ) WITHOUT ROWID""")
    db.execute("CREATE TABLE sync_state (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    # Email keys a Salesforce record moved away from, by change number: records still holding
    # such an email (a Lead that was a Contact's twin) are re-matched by the next run.
    db.execute("CREATE TABLE vacated_emails (seq INTEGER NOT NULL, email_key TEXT NOT NULL)")
    db.execute("CREATE INDEX vacated_emails_seq ON vacated_emails(seq)")
    db["apollo_contacts"].create_index(["email_key"])
    db["apollo_contacts"].create_index(["seq"])
    # Incremental matching finds the contacts that point at a changed Salesforce record.
    # salesforce_id is the id Apollo links to, usually equal to the Contact or Lead id, so
    # those two are indexed only where they say something else (fewer index writes).
    db.execute("CREATE INDEX apollo_contacts_salesforce_id ON apollo_contacts(salesforce_id) "
               "WHERE salesforce_id IS NOT NULL")
    for column in ("salesforce_contact_id", "salesforce_lead_id"):
        db.execute(f"CREATE INDEX apollo_contacts_{column} ON apollo_contacts({column}) "
                   f"WHERE {column} IS NOT NULL AND {column} IS NOT salesforce_id")
    db["sf_records"].create_index(["email_key"])
    db["sf_records"].create_index(["converted_contact_id"])
    db["sf_records"].create_index(["seq"])
    db["sf_email_history"].create_index(["record_id", "changed_at"])


def _v2_decisions(db: sqlite_utils.Database) -> None:
    """Version 2: links between the systems, the base, decisions, settings and runs."""
    db.execute("""
        CREATE TABLE links (
            link_id INTEGER PRIMARY KEY,
            apollo_id TEXT,
            sf_id TEXT,
            method TEXT NOT NULL CHECK (method IN
                ('crm_id', 'email', 'fuzzy', 'manual', 'apollo_only', 'sf_only')),
            confirmed INTEGER NOT NULL DEFAULT 1,
            twin_id TEXT,
            note TEXT,
            agrees INTEGER NOT NULL DEFAULT 0,
            CHECK (apollo_id IS NOT NULL OR sf_id IS NOT NULL)
        )""")
    # agrees = both sides present with equal email keys, noted when linking (the records were
    # read anyway); the decide pass then reads only the pairs that differ.
    db.execute("CREATE INDEX links_differing ON links(link_id) WHERE agrees = 0")
    db.execute("CREATE UNIQUE INDEX links_apollo ON links(apollo_id) WHERE apollo_id IS NOT NULL")
    db.execute("CREATE UNIQUE INDEX links_sf_only ON links(sf_id) WHERE apollo_id IS NULL")
    db.execute("CREATE INDEX links_sf ON links(sf_id)")
    db.execute("CREATE INDEX links_twin ON links(twin_id) WHERE twin_id IS NOT NULL")
    db.execute("CREATE INDEX links_unlinked ON links(method) "
               "WHERE method IN ('apollo_only', 'sf_only')")
    db.execute("CREATE INDEX links_pinned ON links(apollo_id) WHERE method IN ('manual', 'fuzzy')")
    db.execute("""
        CREATE TABLE link_suggestions (
            apollo_id TEXT NOT NULL,
            sf_id TEXT NOT NULL,
            score REAL NOT NULL,
            reason TEXT NOT NULL,
            PRIMARY KEY (apollo_id, sf_id)
        ) WITHOUT ROWID""")
    # Blocking keys of one-sided records (fuzzy suggestions compare records sharing a key).
    db.execute("""
        CREATE TABLE link_blocks (
            key TEXT NOT NULL,
            side TEXT NOT NULL CHECK (side IN ('apollo', 'salesforce')),
            record_id TEXT NOT NULL,
            PRIMARY KEY (key, side, record_id)
        ) WITHOUT ROWID""")
    db.execute("CREATE INDEX link_blocks_record ON link_blocks(record_id)")
    db.execute("""
        CREATE TABLE base (
            apollo_id TEXT NOT NULL,
            sf_id TEXT NOT NULL,
            email TEXT NOT NULL,
            email_key TEXT NOT NULL,
            synced_at TEXT,
            PRIMARY KEY (apollo_id, sf_id)
        ) WITHOUT ROWID""")
    db.execute("""
        CREATE TABLE decisions (
            link_id INTEGER PRIMARY KEY,
            name TEXT NOT NULL DEFAULT '',
            company TEXT NOT NULL DEFAULT '',
            apollo_email TEXT,
            sf_email TEXT,
            sf_object TEXT,
            conflict INTEGER NOT NULL,
            native_winner TEXT NOT NULL,
            native_email TEXT,
            native_rule TEXT NOT NULL,
            in_flight INTEGER NOT NULL DEFAULT 0,
            rec_winner TEXT NOT NULL,
            rec_email TEXT,
            rec_rule TEXT NOT NULL,
            strength TEXT NOT NULL,
            reason TEXT NOT NULL,
            hints TEXT NOT NULL DEFAULT '',
            choice TEXT CHECK (choice IN ('apollo', 'salesforce', 'skip', 'custom')),
            choice_email TEXT,
            status TEXT NOT NULL,
            error TEXT,
            decided_at TEXT NOT NULL,
            seq INTEGER NOT NULL DEFAULT 0
        )""")
    # Few indexes: every one costs on each of a million writes. The window adds what it needs.
    for cols in (["status"], ["native_rule"], ["strength"]):
        db["decisions"].create_index(cols)
    db.execute("CREATE INDEX decisions_in_flight ON decisions(link_id) WHERE in_flight = 1")
    db.execute("CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.execute("""
        CREATE TABLE runs (
            run_id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            status TEXT NOT NULL,
            summary TEXT NOT NULL DEFAULT '{}',
            api_calls TEXT NOT NULL DEFAULT '{}'
        )""")


def _v3_pull_progress(db: sqlite_utils.Database) -> None:
    """Version 3: which records a full pull has seen so far, so a resumed full pull can tell
    new records from repeats and check its totals (emptied when the full pull ends)."""
    db.execute("""
        CREATE TABLE pull_seen (
            system TEXT NOT NULL,
            id TEXT NOT NULL,
            PRIMARY KEY (system, id)
        ) WITHOUT ROWID""")


def _v4_outcome(db: sqlite_utils.Database) -> None:
    """Version 4: what Apollo's sync does next with each decision (DESIGN §3.2, "Outcome"):
    ``pending`` until ``due``, ``missed`` (with ``missed_cause``, a
    :class:`~core.model.MissedCause`), or ``none``. Decisions made before carry no outcome,
    so the next reconciliation is a full one (it keeps the user's choices)."""
    db.execute("ALTER TABLE decisions ADD COLUMN outcome TEXT NOT NULL DEFAULT 'none' "
               "CHECK (outcome IN ('pending', 'missed', 'none'))")
    db.execute("ALTER TABLE decisions ADD COLUMN due TEXT")
    db.execute("ALTER TABLE decisions ADD COLUMN missed_cause TEXT")
    # Pending outcomes expire with time: each incremental run revisits them.
    db.execute("CREATE INDEX decisions_pending ON decisions(link_id) WHERE outcome = 'pending'")
    # The list's "missed by Apollo's sync" filter reads these without a scan.
    db.execute("CREATE INDEX decisions_missed ON decisions(link_id) WHERE outcome = 'missed'")
    db.execute("DELETE FROM sync_state WHERE key = 'decided_seq'")


def _v5_journal(db: sqlite_utils.Database) -> None:
    """Version 5: the write-back journal, one row per planned write (DESIGN §5): its target,
    the value it replaces and the value it writes, what the pair's other record may hold
    (the precondition beside "the target still holds ``old_email``"), and its state."""
    db.execute("""
        CREATE TABLE journal (
            entry_id INTEGER PRIMARY KEY,
            run_id INTEGER NOT NULL,
            link_id INTEGER NOT NULL,
            system TEXT NOT NULL CHECK (system IN ('apollo', 'salesforce')),
            object TEXT NOT NULL,
            record_id TEXT NOT NULL,
            old_email TEXT,
            also_old TEXT NOT NULL DEFAULT '[]',
            new_email TEXT,
            partner_object TEXT NOT NULL,
            partner_id TEXT NOT NULL,
            partner_keys TEXT NOT NULL,
            base_email TEXT,
            rule TEXT NOT NULL DEFAULT '',
            why TEXT NOT NULL DEFAULT '',
            state TEXT NOT NULL CHECK (state IN
                ('planned', 'sent', 'done', 'conflict', 'failed', 'skipped')),
            sends INTEGER NOT NULL DEFAULT 0,
            seen_email TEXT,
            error_code TEXT,
            error TEXT,
            undoes INTEGER,
            updated_at TEXT NOT NULL
        )""")
    db.execute("CREATE INDEX journal_run ON journal(run_id, state)")
    db.execute("CREATE INDEX journal_open ON journal(run_id) WHERE state IN ('planned', 'sent')")
    db.execute("CREATE INDEX journal_undoes ON journal(undoes) WHERE undoes IS NOT NULL")


MIGRATIONS: list = [_v1_records, _v2_decisions, _v3_pull_progress, _v4_outcome, _v5_journal]
assert len(MIGRATIONS) == SCHEMA_VERSION


def migrate(conn: sqlite3.Connection, target: int = SCHEMA_VERSION) -> int:
    """Bring the schema up to ``target``, one transaction per step; return the new version."""
    db = sqlite_utils.Database(conn)
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version == 0:
        if conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
            raise sqlite3.DatabaseError("the file is an SQLite database of another program")
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    elif conn.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
        raise sqlite3.DatabaseError("the file is an SQLite database of another program")
    while version < target:
        step = MIGRATIONS[version]
        conn.execute("BEGIN IMMEDIATE")
        try:
            step(db)
            conn.execute(f"PRAGMA user_version = {version + 1}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        version += 1
    return version
