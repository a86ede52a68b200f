"""The local SQLite cache: schema and migrations, ingest, runs, and the pair queries."""
