from __future__ import annotations

import os

# Tests never touch the user's real data dir.
os.environ.setdefault("INFERENCE_NB_DATA_DIR", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".pytest-data"))
