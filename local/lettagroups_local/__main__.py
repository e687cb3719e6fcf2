"""`python -m lettagroups_local`: serve the whole API on 127.0.0.1:8283 (PORT overrides)."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from .server import LocalServer


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("werkzeug", "botocore", "moto"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    port = int(os.environ.get("PORT", "8283"))
    host = os.environ.get("HOST", "127.0.0.1")
    data_dir = os.environ.get("DATA_DIR")
    server = LocalServer(host=host, port=port, data_dir=Path(data_dir) if data_dir else None)
    server.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
