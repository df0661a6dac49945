"""Shared fixtures. The contract suites live in ``docsage.testing``; let pytest rewrite their
asserts so a failing contract test shows the values it compared.

``server`` (a real ``docsage serve`` process on loopback) is registered here rather than
imported into each test module: an imported fixture is a separate definition per module, so
its session scope did not hold and the server was started once per importing module."""

from __future__ import annotations

import pytest

pytest.register_assert_rewrite("docsage.testing")

from test_api_support import server  # noqa: E402

__all__ = ["server"]
