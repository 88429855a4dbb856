"""One warehouse per dialect for the whole module: each case works on its own unit and month."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from config import Config
from tests.review_fixture import shared_engine


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def module_engine(request: pytest.FixtureRequest, cfg: Config, tmp_path_factory) -> Iterator[Engine]:
    yield from shared_engine(request, cfg, tmp_path_factory.mktemp("review"))
