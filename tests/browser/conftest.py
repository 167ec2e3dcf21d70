"""Fixtures of the real-browser tests: JupyterLab, headless Chromium, screenshots.

``make test-browser`` runs this folder on its own (``make test-unit`` leaves it
out): a JupyterLab server from the project's environment on a free local port
with a random token, in a temporary folder holding fresh learner copies of the
notebooks (``course_utils.exercises.write_student_copies``, what ``make
student`` does), and Debian's Chromium (``/usr/bin/chromium``) driven headless
by Playwright. Nothing is written into the repository except the screenshots
(``build/browser/``, ignored by git; ``COURSE_BROWSER_SHOTS`` moves them), and
nothing may reach the network: the server and its kernels run under the
offline guard of ``tests/offline``, JupyterLab's news, update check and
extension manager are off, Chromium runs without its background networking,
and every page records its requests, which must all stay on this machine.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

REPO = Path(__file__).resolve().parents[2]
#: Where the screenshots go (printed at the end of the run).
SHOTS = Path(os.environ.get("COURSE_BROWSER_SHOTS", REPO / "build" / "browser"))
#: Debian's Chromium; Playwright never downloads a browser here.
CHROMIUM = os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium")
#: Flags for a root user on a machine with no network and no GPU: no sandbox,
#: and none of Chromium's own connections (updates, sync, field trials).
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
#: Hosts a page may load from.
LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]"}
#: JupyterLab settings of a quiet, offline learner session. Windowing off so
#: that every cell of a notebook is in the page (JupyterLab 4 otherwise only
#: renders the cells in view, and the checks read all of them).
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
}


def free_port() -> int:
    """A TCP port that was free on 127.0.0.1 a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def is_local(url: str) -> bool:
    """True for a URL that stays on this machine (data:, blob:, about: or a loopback host)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme in ("data", "blob", "about", "chrome-error"):
        return True
    host = parts.hostname or ""
    return host in {"127.0.0.1", "localhost", "::1"}


@pytest.fixture(scope="session")
def shots() -> Path:
    """Folder for screenshots, emptied at the start of the run."""
    if SHOTS.exists():
        shutil.rmtree(SHOTS)
    SHOTS.mkdir(parents=True)
    return SHOTS


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.call_report = report  # the page fixture screenshots a failed test
    return report


def pytest_terminal_summary(terminalreporter):
    if SHOTS.exists():
        terminalreporter.section("browser screenshots")
        terminalreporter.write_line(f"screenshots in {SHOTS}/ ({len(list(SHOTS.glob('*.png')))} PNG files)")


class Lab:
    """A running JupyterLab server: its base URL, token and learner folder."""

    def __init__(self, url: str, token: str, root: Path, process: subprocess.Popen, log: Path):
        self.url, self.token, self.root, self.process, self.log = url, token, root, process, log
        self._workspaces = 0

    def page_url(self, notebook: str) -> str:
        """URL opening ``notebook`` (relative to the learner folder) in a fresh, empty workspace.

        A new workspace per page, so that the tabs a previous test left open
        (JupyterLab saves them on the server) are not reopened.
        """
        self._workspaces += 1
        path = urllib.parse.quote(notebook)
        return f"{self.url}/lab/workspaces/test{self._workspaces}/tree/{path}?token={self.token}"

    def api(self, path: str, method: str = "GET"):
        request = urllib.request.Request(f"{self.url}/api/{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def shutdown_kernels(self) -> None:
        """Stop every kernel (each test leaves its notebooks' kernels running)."""
        for kernel in self.api("kernels"):
            try:
                self.api(f"kernels/{kernel['id']}", method="DELETE")
            except urllib.error.HTTPError:
                pass

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


@pytest.fixture(scope="session")
def lab(tmp_path_factory, shots):
    """JupyterLab from the project's environment, serving fresh learner copies."""
    from course_utils.exercises import write_student_copies

    home = tmp_path_factory.mktemp("lab")
    student = home / "student"
    write_student_copies(REPO / "notebooks", student, verbose=False)
    settings = home / "settings"
    for name, values in LAB_SETTINGS.items():
        path = settings / f"{name}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    env = dict(os.environ)
    env.update({
        # Configuration, data, runtime files, IPython profile, settings, workspaces and
        # the notebooks' recorded results: all in the temporary folder, none in $HOME or
        # the repository.
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_DATA_DIR": str(home / "data"),
        "IPYTHONDIR": str(home / "ipython"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(settings),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
        "COURSE_RESULTS": str(home / "results"),
        # The offline guard, for the server and every kernel it starts.
        "PYTHONPATH": os.pathsep.join([str(REPO / "tests" / "offline"), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        "COURSE_OFFLINE": "1",
        # Chromium draws while a kernel trains: OpenMP threads that spin while
        # they wait would take the two cores from it (as in test-unit, Makefile's SHARE).
        "OMP_WAIT_POLICY": "PASSIVE",
    })
    port, token = free_port(), secrets.token_hex(24)
    command = [
        sys.executable, "-m", "jupyterlab", "--no-browser",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={student}",
        # Nothing fetched from the network: no news feed, no update check, no
        # extension manager querying PyPI.
        "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
    ]
    if os.geteuid() == 0:
        command.append("--allow-root")
    log = shots / "jupyterlab.log"
    with log.open("w") as out:
        # cwd is the temporary folder: the repository's nbgrader_config.py is not picked up.
        process = subprocess.Popen(command, cwd=home, env=env, stdout=out, stderr=subprocess.STDOUT)
    server = Lab(f"http://127.0.0.1:{port}", token, student, process, log)
    deadline = time.monotonic() + 90
    while True:
        if process.poll() is not None:
            pytest.fail(f"JupyterLab exited with status {process.returncode}:\n{server.log_tail()}")
        try:
            server.api("status")
            break
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            if time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"JupyterLab did not answer on port {port} within 90 s:\n{server.log_tail()}")
            time.sleep(0.5)
    yield server
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless, driven by Playwright (a fresh temporary profile)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's Chromium (apt-get install chromium chromium-driver); "
                    "the browser tests never download a browser")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


class PageLog:
    """What a page did: every request, console errors and uncaught page errors."""

    def __init__(self, page):
        self.requests: list[str] = []
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        page.on("request", lambda request: self.requests.append(request.url))
        page.on("console", lambda message: message.type == "error" and self.console_errors.append(
            f"{message.text} ({message.location.get('url', '')})"))
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))

    def remote_requests(self) -> list[str]:
        return [url for url in self.requests if not is_local(url)]


@pytest.fixture
def page(browser, request, shots):
    """A new page (own context, 1400 x 1000) whose requests must all stay local."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(30_000)
    page = context.new_page()
    page.log = PageLog(page)
    yield page
    name = request.node.name
    report = getattr(request.node, "call_report", None)
    if report is not None and report.failed:
        page.screenshot(path=shots / f"FAILED_{name}.png")
        (shots / f"FAILED_{name}.html").write_text(page.content())
    lines = (["# console errors"] + page.log.console_errors + ["# page errors"] + page.log.page_errors
             + ["# requests"] + page.log.requests)
    (shots / f"{name}.console.txt").write_text(re.sub(r"token=\w+", "token=...", "\n".join(lines)) + "\n")
    context.close()
    remote = page.log.remote_requests()
    assert not remote, f"the page reached beyond this machine: {remote[:5]}"
