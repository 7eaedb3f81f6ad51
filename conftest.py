"""Shared by every test, notebooks included: never touch the user's real data dir."""

from __future__ import annotations

import os
import tempfile


def pytest_configure(config):
    # Kernels started by nbval inherit this, so notebooks get a throwaway data dir too. Each pytest-xdist
    # worker is a process of its own and runs this too: workers never share a data dir (nor, through
    # inference_nb.kernel.embedded_server, an embedded server).
    os.environ["INFERENCE_NB_DATA_DIR"] = tempfile.mkdtemp(prefix="inference_nb-test-")
