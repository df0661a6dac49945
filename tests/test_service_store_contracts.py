"""The SQLite adapters of the service's ports (API keys, request log, jobs) and of the eval
runs, against the contracts every adapter must pass unchanged."""

from __future__ import annotations

from pathlib import Path

from docsage.ports import JobStore, KeyStore, RequestStore, RunStore
from docsage.store.sqlite_jobs import SQLiteJobStore
from docsage.store.sqlite_keys import SQLiteKeyStore
from docsage.store.sqlite_requests import SQLiteRequestLog
from docsage.store.sqlite_runs import SQLiteRunStore
from docsage.testing.jobs_contract import JobStoreContract
from docsage.testing.keys_contract import KeyStoreContract
from docsage.testing.requestlog_contract import RequestLogContract
from docsage.testing.runs_contract import RunStoreContract


class TestSQLiteKeyStore(KeyStoreContract):
    def make_store(self, location: Path) -> KeyStore:
        return SQLiteKeyStore(location / "index.sqlite")


class TestSQLiteRequestLog(RequestLogContract):
    def make_store(self, location: Path) -> RequestStore:
        return SQLiteRequestLog(location / "index.sqlite")


class TestSQLiteJobStore(JobStoreContract):
    def make_store(self, location: Path) -> JobStore:
        return SQLiteJobStore(location / "index.sqlite")


class TestSQLiteRunStore(RunStoreContract):
    def make_store(self, location: Path) -> RunStore:
        return SQLiteRunStore(location / "index.sqlite")
