"""Shared fixtures. The contract suites live in ``docsage.testing``; let pytest rewrite their
asserts so a failing contract test shows the values it compared."""

from __future__ import annotations

import pytest

pytest.register_assert_rewrite("docsage.testing")
