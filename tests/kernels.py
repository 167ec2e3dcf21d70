"""Running notebooks from tests, safely in parallel.

pytest-xdist runs tests in several processes. Kernels started over TCP pick
free ports by probing, and two processes probing at the same moment can pick
the same ports: a client then waits forever for replies that go to the other
kernel. Kernels started here talk over Unix sockets (IPC) in a folder of
their own, so no two kernels can ever share a channel.
"""

import os
import tempfile
from contextlib import contextmanager

#: Per-cell limit for notebooks run from tests: a cell of the course runs in
#: seconds, so reaching this means something hangs; fail instead of waiting.
CELL_TIMEOUT_S = 300


@contextmanager
def private_kernel_folder():
    """A fresh folder for IPC sockets; short path (Unix sockets allow ~100 chars)."""
    with tempfile.TemporaryDirectory(prefix="k", dir="/tmp") as folder:
        yield os.path.join(folder, "kernel")


def execute_notebook(nb, cwd, allow_errors=False):
    """Execute ``nb`` in place in a new python3 kernel working in ``cwd``."""
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    with private_kernel_folder() as ip:
        km = KernelManager(kernel_name="python3", transport="ipc", ip=ip)
        client = NotebookClient(nb, km=km, timeout=CELL_TIMEOUT_S, allow_errors=allow_errors,
                                resources={"metadata": {"path": str(cwd)}})
        try:
            client.execute()
        finally:
            # A kernel manager handed to NotebookClient stays ours to stop.
            if km.has_kernel:
                km.shutdown_kernel(now=True)
    return nb
