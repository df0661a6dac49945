"""The behaviour every ``KeyStore`` must have, as a pytest base class (like ``StoreContract``)::

    class TestMyKeyStore(KeyStoreContract):
        def make_store(self, location: Path) -> KeyStore:
            return MyKeyStore(location)

``make_store`` called twice with the same ``location`` must open the same keys (another
worker). ``stored_bytes`` is everything the store keeps at ``location``, by default the bytes
of every file under it: the contract checks that no secret is among them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from docsage.errors import NotFoundError, UsageError
from docsage.ports import KeyStore


class KeyStoreContract:
    """Subclass as ``Test<YourKeyStore>`` and implement ``make_store``."""

    def make_store(self, location: Path) -> KeyStore:
        raise NotImplementedError("a KeyStoreContract subclass must implement make_store")

    def stored_bytes(self, location: Path) -> bytes:
        return b"".join(p.read_bytes() for p in sorted(location.rglob("*")) if p.is_file())

    @pytest.fixture
    def location(self, tmp_path: Path) -> Path:
        return tmp_path / "keys"

    @pytest.fixture
    def store(self, location: Path) -> Iterator[KeyStore]:
        store = self.make_store(location)
        try:
            yield store
        finally:
            store.close()

    def test_a_new_key_authenticates_with_its_secret(self, store: KeyStore) -> None:
        key, secret = store.create("ci", ["ask", "ingest"], ["docs"], {"rpm": 5.0})
        assert (key.name, key.scopes, key.collections, key.limits) == (
            "ci",
            ("ask", "ingest"),
            ("docs",),
            {"rpm": 5.0},
        )
        assert key.revoked_at is None and key.created_at > 0
        assert secret.startswith(key.prefix) and len(key.prefix) < len(secret) // 2
        assert store.authenticate(secret) == key

    def test_a_wrong_secret_does_not_authenticate(self, store: KeyStore) -> None:
        _, secret = store.create("ci", ["ask"], ["*"])
        assert store.authenticate(secret + "x") is None
        assert store.authenticate(secret[:-1]) is None
        assert store.authenticate("") is None

    def test_each_key_gets_its_own_id_and_secret(self, store: KeyStore) -> None:
        one, first = store.create("same", ["ask"], ["*"])
        two, second = store.create("same", ["ask"], ["*"])
        assert one.id != two.id and first != second
        assert store.authenticate(first) == one and store.authenticate(second) == two

    def test_secrets_are_not_stored(self, location: Path) -> None:
        store = self.make_store(location)
        key, secret = store.create("ci", ["ask"], ["*"])
        store.close()
        stored = self.stored_bytes(location)
        assert stored, "stored_bytes found nothing: override it for this adapter"
        assert secret.encode() not in stored
        assert secret[len(key.prefix) :].encode() not in stored
        again = self.make_store(location)
        try:
            assert again.authenticate(secret) == key, "the key must persist (as a hash)"
        finally:
            again.close()

    def test_list_is_oldest_first_and_revoked_keys_only_on_request(self, store: KeyStore) -> None:
        keys = [store.create(name, ["ask"], ["*"])[0] for name in ("a", "b", "c")]
        assert [k.id for k in store.list()] == [k.id for k in keys]
        revoked = store.revoke(keys[1].id)
        assert revoked.id == keys[1].id
        assert [k.id for k in store.list()] == [keys[0].id, keys[2].id]
        listed = store.list(include_revoked=True)
        assert [k.id for k in listed] == [k.id for k in keys]
        assert listed[1].revoked_at is not None and listed[0].revoked_at is None

    def test_revoked_keys_do_not_authenticate(self, store: KeyStore, location: Path) -> None:
        key, secret = store.create("ci", ["ask"], ["*"])
        _, other = store.create("other", ["ask"], ["*"])
        store.revoke(key.id)
        assert store.authenticate(secret) is None
        assert store.authenticate(other) is not None
        second = self.make_store(location)  # another worker sees the revocation
        try:
            assert second.authenticate(secret) is None
        finally:
            second.close()

    def test_revoke_by_a_unique_name(self, store: KeyStore) -> None:
        key, secret = store.create("laptop", ["ask"], ["*"])
        assert store.revoke("laptop").id == key.id
        assert store.authenticate(secret) is None

    def test_revoke_refuses_unknown_and_ambiguous_refs(self, store: KeyStore) -> None:
        with pytest.raises(NotFoundError):
            store.revoke("key_missing")
        a, _ = store.create("twin", ["ask"], ["*"])
        b, _ = store.create("twin", ["ask"], ["*"])
        with pytest.raises(UsageError):
            store.revoke("twin")
        store.revoke(a.id)
        with pytest.raises(NotFoundError):
            store.revoke(a.id)  # already revoked: no live key by that id
        assert store.revoke("twin").id == b.id  # now only one live key has the name

    @pytest.mark.parametrize(
        ("scopes", "collections"),
        [(["ask", "root"], ["*"]), ([], ["*"]), (["ask"], [])],
    )
    def test_create_refuses_bad_scopes_and_no_collections(
        self, store: KeyStore, scopes: list[str], collections: list[str]
    ) -> None:
        with pytest.raises(UsageError):
            store.create("bad", scopes, collections)
        assert store.list(include_revoked=True) == []

    def test_keys_persist_across_reopening(self, location: Path) -> None:
        store = self.make_store(location)
        key, secret = store.create("ci", ["admin"], ["a", "b"], {"usd_day": 1.5})
        store.close()
        again = self.make_store(location)
        try:
            assert again.list() == [key]
            assert again.authenticate(secret) == key
        finally:
            again.close()
