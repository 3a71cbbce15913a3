"""Browser tests: Playwright driving Debian's Chromium against the real server.

Only Debian's Chromium (/usr/bin/chromium) is used, never a browser that Playwright downloads
(`playwright install` is never run). `.ci/run` installs the package with apt-get when it is
missing; elsewhere the tests skip with the reason, except under CI=true, where they fail.

The server runs for real: `ejournal serve --workers 1` in a subprocess on a free port, over a
fresh SQLite store loaded with examples/roster.json. It is shared by the browser tests (package
scope, like the browser) and stopped after the last of them. Pages use the real clock; the
example roster's year runs 2026-09-01..2027-06-30.

Screenshots (1366×768) go to var/screenshots/<name>.png under the repository root: look at them.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, ViewportSize

ROOT = Path(__file__).resolve().parent.parent.parent
EXAMPLE_ROSTER = ROOT / "examples" / "roster.json"
SCREENSHOTS = ROOT / "var" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
VIEWPORT: ViewportSize = {"width": 1366, "height": 768}
# The example roster's demo accounts (examples/roster.json).
DEMO_PASSWORD = "demo-password-2025"
STARTUP_SECONDS = 30.0

_unavailable: str | None = None


def browser_unavailable() -> str | None:
    """Why the browser tests cannot run here, or None when they can (asked once)."""
    global _unavailable
    if _unavailable is None:
        reasons = []
        if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
            reasons.append(
                f"Debian's Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
            )
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError as e:
            reasons.append(
                f"playwright does not import ({e}); pip install -c constraints.txt -e '.[dev]'"
            )
        _unavailable = "; ".join(reasons)
    return _unavailable or None


def require_browser() -> None:
    reason = browser_unavailable()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true needs the browser tests to run: {reason}")
        pytest.skip(reason)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ejournal() -> str:
    beside = Path(sys.executable).parent / "ejournal"
    if beside.exists():
        return str(beside)
    found = shutil.which("ejournal")
    if not found:
        pytest.fail("the `ejournal` command is not installed (pip install -e .)")
    return found


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


@dataclass(frozen=True)
class LiveApp:
    url: str  # http://127.0.0.1:PORT, no trailing slash
    var_dir: Path
    log: Path


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the process group we started (the server and anything it spawned)."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@pytest.fixture(scope="package")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    """The real server on a free port, with the example roster imported."""
    require_browser()
    tmp = tmp_path_factory.mktemp("live_app")
    env = {k: v for k, v in os.environ.items() if not k.startswith("EJOURNAL_")}
    env.update(
        EJOURNAL_DATABASE_URL=f"sqlite:///{tmp / 'x.db'}",
        EJOURNAL_VAR_DIR=str(tmp),
        EJOURNAL_SECRET_KEY="browser-tests-secret-key-not-for-production-0123456789",
        EJOURNAL_ARGON2_TIME_COST="1",
        EJOURNAL_ARGON2_MEMORY_KIB="1024",
        EJOURNAL_LOG_LEVEL="WARNING",
    )
    exe = _ejournal()
    imported = subprocess.run(
        [exe, "import", str(EXAMPLE_ROSTER)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if imported.returncode != 0:
        pytest.fail(
            f"ejournal import failed ({imported.returncode}):\n{imported.stdout}\n{imported.stderr}"
        )
    port = _free_port()
    log = tmp / "server.log"
    url = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [exe, "serve", "--workers", "1", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    # No proxy: a proxy from the environment must not stand between us and 127.0.0.1.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if proc.poll() is not None:
                pytest.fail(f"ejournal serve exited with {proc.returncode}:\n{_tail(log)}")
            try:
                with opener.open(f"{url}/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"ejournal serve did not answer /health in {STARTUP_SECONDS}s:\n{_tail(log)}"
                )
            time.sleep(0.1)
        yield LiveApp(url=url, var_dir=tmp, log=log)
    finally:
        _stop(proc)


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """Debian's headless Chromium, launched once for the browser tests."""
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Browser, live_app: LiveApp) -> Iterator[Page]:
    """A fresh context (no cookies) at 1366×768 in Russian; relative URLs go to live_app."""
    context = browser.new_context(viewport=VIEWPORT, locale="ru-RU", base_url=live_app.url)
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def screenshot(page: Page, name: str, *, full_page: bool = False) -> Path:
    """Write var/screenshots/<name>.png (repository root) and return its path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / (name if name.endswith(".png") else f"{name}.png")
    page.screenshot(path=str(path), full_page=full_page)
    return path


def assert_accessible(page: Page, *, impacts: tuple[str, ...] = ("serious", "critical")) -> None:
    """axe-core on the current page: fail listing each violation of the given impacts."""
    from axe_playwright_python.sync_playwright import Axe

    results: Any = Axe().run(page)
    bad = [v for v in results.response["violations"] if v.get("impact") in impacts]
    if not bad:
        return
    lines = [f"axe-core: {len(bad)} serious/critical violation(s) on {page.url}"]
    for v in bad:
        lines.append(f"- [{v['impact']}] {v['id']}: {v['help']} ({v.get('helpUrl', '')})")
        for node in v.get("nodes", [])[:5]:
            target = ", ".join(str(t) for t in node.get("target", []))
            summary = " ".join(line.strip() for line in node.get("failureSummary", "").splitlines())
            lines.append(f"    {target}: {summary}")
    pytest.fail("\n".join(lines))
