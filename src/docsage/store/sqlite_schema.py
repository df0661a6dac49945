"""Append-only, named schema migrations for the SQLite store, recorded in ``migrations``.

Never edit a migration that has shipped: add a new one at the end.
"""

from __future__ import annotations

import sqlite3

MIGRATIONS: tuple[tuple[str, str], ...] = (
    (
        "0001_core",
        """
        CREATE TABLE collections (
            name TEXT PRIMARY KEY,
            index_version INTEGER NOT NULL DEFAULT 0,
            updated_at REAL NOT NULL DEFAULT (unixepoch())
        );
        CREATE TABLE documents (
            collection TEXT NOT NULL,
            source TEXT NOT NULL,
            content_hash TEXT NOT NULL,
            title TEXT NOT NULL DEFAULT '',
            size INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (collection, source)
        );
        CREATE TABLE chunks (
            rowid INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            collection TEXT NOT NULL,
            source TEXT NOT NULL,
            anchor TEXT NOT NULL,
            title TEXT NOT NULL,
            heading_path TEXT NOT NULL,
            text TEXT NOT NULL,
            kind TEXT NOT NULL,
            line_start INTEGER,
            line_end INTEGER,
            ordinal INTEGER NOT NULL,
            text_hash TEXT NOT NULL
        );
        CREATE INDEX chunks_by_source ON chunks (collection, source, ordinal);
        CREATE INDEX chunks_by_hash ON chunks (text_hash);
        CREATE TABLE vectors (
            model TEXT NOT NULL,
            text_hash TEXT NOT NULL,
            vector BLOB NOT NULL,
            PRIMARY KEY (model, text_hash)
        ) WITHOUT ROWID;
        CREATE TABLE links (
            collection TEXT NOT NULL,
            source TEXT NOT NULL,
            target TEXT NOT NULL,
            PRIMARY KEY (collection, source, target)
        ) WITHOUT ROWID;
        CREATE INDEX links_by_target ON links (collection, target);
        CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
        INSERT INTO meta VALUES ('vectors_version', 0);
        """,
    ),
    (
        "0002_eval_runs",
        """
        CREATE TABLE eval_runs (
            id TEXT PRIMARY KEY,
            created_at REAL NOT NULL,
            collection TEXT NOT NULL,
            dataset TEXT NOT NULL,
            k INTEGER NOT NULL,
            mode TEXT NOT NULL,
            index_version INTEGER NOT NULL,
            n_cases INTEGER NOT NULL,
            n_errors INTEGER NOT NULL,
            summary TEXT NOT NULL
        );
        CREATE TABLE eval_results (
            run_id TEXT NOT NULL REFERENCES eval_runs (id) ON DELETE CASCADE,
            ordinal INTEGER NOT NULL,
            case_id TEXT NOT NULL,
            record TEXT NOT NULL,
            PRIMARY KEY (run_id, ordinal)
        );
        CREATE INDEX eval_runs_by_time ON eval_runs (created_at);
        """,
    ),
    (
        "0003_service",
        """
        CREATE TABLE api_keys (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            hash TEXT NOT NULL UNIQUE,
            prefix TEXT NOT NULL,
            scopes TEXT NOT NULL,
            collections TEXT NOT NULL,
            limits TEXT NOT NULL DEFAULT '{}',
            created_at REAL NOT NULL,
            revoked_at REAL
        );
        CREATE TABLE requests (
            id TEXT PRIMARY KEY,
            created_at REAL NOT NULL,
            key_id TEXT,
            route TEXT NOT NULL,
            status INTEGER NOT NULL,
            collection TEXT,
            question TEXT,
            answer TEXT,
            citations TEXT,
            abstained INTEGER,
            confidence REAL,
            retrieve_ms REAL NOT NULL DEFAULT 0,
            rerank_ms REAL NOT NULL DEFAULT 0,
            generate_ms REAL NOT NULL DEFAULT 0,
            total_ms REAL NOT NULL DEFAULT 0,
            model TEXT,
            input_tokens INTEGER NOT NULL DEFAULT 0,
            output_tokens INTEGER NOT NULL DEFAULT 0,
            cost_usd REAL NOT NULL DEFAULT 0,
            cache_hit INTEGER NOT NULL DEFAULT 0,
            degraded TEXT,
            index_version INTEGER
        );
        CREATE INDEX requests_by_time ON requests (created_at);
        CREATE INDEX requests_by_key ON requests (key_id, created_at);
        CREATE TABLE feedback (
            id INTEGER PRIMARY KEY,
            request_id TEXT NOT NULL,
            key_id TEXT,
            created_at REAL NOT NULL,
            rating INTEGER NOT NULL,
            comment TEXT
        );
        CREATE INDEX feedback_by_request ON feedback (request_id);
        CREATE TABLE jobs (
            id TEXT PRIMARY KEY,
            key_id TEXT,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            collection TEXT NOT NULL,
            path TEXT NOT NULL,
            state TEXT NOT NULL,
            progress TEXT NOT NULL DEFAULT '{}',
            result TEXT,
            error TEXT
        );
        """,
    ),
    (
        "0004_ingest_sources",
        """
        CREATE TABLE ingest_sources (
            collection TEXT PRIMARY KEY,
            root TEXT NOT NULL,
            holder TEXT,
            held_since REAL
        );
        """,
    ),
    ("0005_job_cancel", "ALTER TABLE jobs ADD COLUMN cancel_requested REAL"),
)


def migrate(conn: sqlite3.Connection) -> None:
    """Apply every migration not yet recorded, each in its own transaction."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at REAL NOT NULL)"
    )
    done = {row[0] for row in conn.execute("SELECT name FROM migrations")}
    for name, script in MIGRATIONS:
        if name in done:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            if conn.execute("SELECT 1 FROM migrations WHERE name = ?", (name,)).fetchone():
                conn.execute("ROLLBACK")
                continue
            for statement in script.split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute("INSERT INTO migrations VALUES (?, unixepoch())", (name,))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
