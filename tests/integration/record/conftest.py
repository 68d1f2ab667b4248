from __future__ import annotations

from pathlib import Path

import pytest

from joinedup.synth import generate_borough


@pytest.fixture(scope="session")
def borough(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic borough, generated once for the whole session."""
    out = tmp_path_factory.mktemp("borough") / "b"
    generate_borough(people=1000, seed=11, out=out)
    return out
