"""Route tests build an app per test; compiling the templates again for each one was a large
part of their time. They share one in-memory Jinja bytecode cache (keyed by template source
checksum, so an edited template is compiled afresh)."""

from __future__ import annotations

import pytest
from flask import Flask
from jinja2 import BytecodeCache
from jinja2.bccache import Bucket


class _MemoryBytecodeCache(BytecodeCache):
    def __init__(self) -> None:
        self._store: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        data = self._store.get(bucket.key)
        if data is not None:
            bucket.bytecode_from_string(data)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._store[bucket.key] = bucket.bytecode_to_string()


_CACHE = _MemoryBytecodeCache()


@pytest.fixture
def app(app: Flask) -> Flask:
    app.jinja_env.bytecode_cache = _CACHE
    return app
