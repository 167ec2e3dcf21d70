"""The site's and slides' JavaScript (node_modules, installed by `npm ci` in make's set-up)."""
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def require(relative_path):
    """Skip when ``node_modules/<relative_path>`` is absent in a bare pytest run; fail under make
    (COURSE_OFFLINE set), which installs it, so that its absence is never a silent skip."""
    if (ROOT / "node_modules" / relative_path).exists():
        return
    reason = f"node_modules/{relative_path} is not installed: run `npm ci` (make test-unit does)"
    if os.environ.get("COURSE_OFFLINE"):
        pytest.fail(reason + " -- make test installs it, so its absence here is a failure, not a skip")
    pytest.skip(reason)
