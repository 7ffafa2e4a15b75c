"""Fixtures for the journal tests: a real SQLite file in tmp_path."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from modembridge.store import Store


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "journal.db"


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    s = Store(db_path, rng=random.Random(7))
    yield s
    s.close(commit=False)
