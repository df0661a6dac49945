"""Shared fixtures. The contract suites live in ``docsage.testing``; let pytest rewrite their
asserts so a failing contract test shows the values it compared.

``server`` (a real ``docsage serve`` process on loopback) is registered here rather than
imported into each test module: an imported fixture is a separate definition per module, so
its session scope did not hold and the server was started once per importing module. The
golden index and its default eval run are registered here for the same reason: the eval
harness and the sabotage tests share one ingest and one run."""

from __future__ import annotations

import pytest

pytest.register_assert_rewrite("docsage.testing")

from golden_support import golden_home, golden_run  # noqa: E402
from test_api_support import server  # noqa: E402

__all__ = ["golden_home", "golden_run", "server"]
