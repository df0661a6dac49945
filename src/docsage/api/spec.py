"""``python -m docsage.api.spec > openapi.json``: the OpenAPI document checked into the repo."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from docsage.api.app import create_app
from docsage.settings import Settings


def openapi() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as home:
        app = create_app(Settings(home=Path(home), embedder="none"))
        spec = app.openapi()
        app.state.service.close()
    return spec


if __name__ == "__main__":
    print(json.dumps(openapi(), indent=2, sort_keys=True))
