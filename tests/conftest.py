"""Fixtures shared by test modules: real PostgreSQL and Redis servers on loopback."""

from tests.dbservers import backend, pg_url, postgres_server, redis_server  # noqa: F401
