"""Fixtures: one native stack for the whole session, started once and stopped at the end."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from tests.helpers import StackUnderTest, make_stack

# Tests never read the developer's own config.
os.environ["CRESTFALL_CONFIG"] = str(Path(__file__).parent / "empty-config.toml")


@pytest.fixture(scope="session")
def stack() -> Iterator[StackUnderTest]:
    """The shared, running stack (Postgres with pg_cron and pgaudit, Typesense)."""
    shared = make_stack("local")
    try:
        shared.runtime.up()
        yield shared
    finally:
        shared.remove()


@pytest.fixture(scope="module")
def scratch() -> Iterator[StackUnderTest]:
    """A stack of this module's own, for tests that stop, kill or restart services."""
    own = make_stack("scratch")
    try:
        own.runtime.up()
        yield own
    finally:
        own.remove()


@pytest.fixture
def db(stack: StackUnderTest) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    """An autocommit superuser connection to the shared stack."""
    with psycopg.connect(stack.conninfo, autocommit=True) as conn:
        yield conn


@pytest.fixture
def schema(db: psycopg.Connection[tuple[object, ...]]) -> Iterator[str]:
    """A schema of this test's own (the `db` connection's search path), dropped after."""
    name = f"t_{uuid.uuid4().hex[:8]}"
    db.execute(sql.SQL("create schema {}").format(sql.Identifier(name)))
    db.execute(sql.SQL("set search_path = {}").format(sql.Identifier(name)))
    yield name
    db.execute(sql.SQL("drop schema {} cascade").format(sql.Identifier(name)))
