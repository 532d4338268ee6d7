"""The policy panel in a real browser: JupyterLab, Debian's Chromium, Playwright.

Starts JupyterLab on 127.0.0.1 (random free port, a token, every Jupyter directory in a temporary
folder) serving a temporary copy of notebooks/08_policy_panel.ipynb and scenarios/, runs all
cells in headless Chromium, moves the inspections slider with the keyboard, checks that the
displayed KPI table changes, and saves a screenshot to results/browser/policy_panel.png.

A missing Chromium or Playwright is a failure, not a skip: ``make test`` installs Chromium
(``make chromium``), and the suite must not silently lose this test.
"""

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # a real browser and a notebook server

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = "08_policy_panel.ipynb"
SCREENSHOT = ROOT / "results" / "browser" / "policy_panel.png"
# tooling notes (shared/notes/tooling.md): Debian's Chromium, headless, no sandbox (root in CI),
# nothing fetched in the background
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-dev-shm-usage"]
# no news or update checks (no network), and the notebook's kernel starts without a dialog
LAB_OVERRIDES = {
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false",
                                                     "checkForUpdates": False},
    "@jupyterlab/notebook-extension:tracker": {"autoStartDefaultKernel": True},
}
SLIDER_LABEL = "City inspections per year"
TIMEOUT_MS = 90_000  # generous: a shared two-core machine; the whole test takes about 20-30 s


def _chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        pytest.fail("Debian's `chromium` is not on PATH, so the browser test of the policy "
                    "panel cannot run. Install it with `make chromium` (runs `apt-get install -y "
                    "chromium` as root) or `apt-get install -y chromium`; never `playwright "
                    "install`.", pytrace=False)
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_lab(url: str, proc: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            pytest.fail(f"JupyterLab exited with code {proc.returncode}:\n"
                        f"{log.read_text(errors='replace')[-3000:]}", pytrace=False)
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"JupyterLab did not answer {url} within {timeout:.0f} s:\n"
                f"{log.read_text(errors='replace')[-3000:]}", pytrace=False)


def _stop(proc: subprocess.Popen, base: str, token: str) -> None:
    """Shut the server down (it stops its kernels), then make sure the process has gone."""
    try:
        req = urllib.request.Request(f"{base}/api/shutdown", method="POST",
                                     headers={"Authorization": f"token {token}"})
        urllib.request.urlopen(req, timeout=5).close()
    except OSError:
        pass
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGTERM)  # Lab was started in its own process group
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab serving a temporary copy of the panel notebook; yields (base URL, token,
    Chromium's path). Fails first, before starting anything, if Chromium or Playwright is
    missing."""
    chromium = _chromium()
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.fail("playwright is not installed in this environment (it is a dev dependency "
                    "in pyproject.toml: `make test` installs it from requirements.lock).",
                    pytrace=False)
    tmp = tmp_path_factory.mktemp("lab")
    work = tmp / "work"
    (work / "notebooks").mkdir(parents=True)
    shutil.copy(ROOT / "notebooks" / NOTEBOOK, work / "notebooks" / NOTEBOOK)
    shutil.copytree(ROOT / "scenarios", work / "scenarios")
    settings = tmp / "app_settings"
    settings.mkdir()
    (settings / "overrides.json").write_text(json.dumps(LAB_OVERRIDES), encoding="utf-8")
    env = dict(os.environ)
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR"):
        d = tmp / name.lower()
        d.mkdir()
        env[name] = str(d)
    port, token = _free_port(), secrets.token_hex(16)
    log = tmp / "lab.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root",
             "--ip=127.0.0.1", f"--port={port}", "--ServerApp.port_retries=0",
             f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={work}",
             f"--LabApp.workspaces_dir={tmp / 'workspaces'}",
             f"--LabApp.app_settings_dir={settings}"],
            cwd=work, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for_lab(f"{base}/api/status?token={token}", proc, log)
        yield base, token, chromium
    finally:
        _stop(proc, base, token)


def _kpi_text(page) -> str:
    return page.locator(".sq-kpi-table").inner_text()


def test_moving_a_slider_changes_the_displayed_kpis(lab):
    from playwright.sync_api import sync_playwright

    base, token, chromium = lab
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1700})
            page.set_default_timeout(TIMEOUT_MS)
            page.goto(f"{base}/lab/tree/notebooks/{NOTEBOOK}?token={token}")
            # a click before the kernel is idle is lost (tooling notes)
            page.get_by_text(re.compile(r"Python 3 \(ipykernel\) \| Idle")).first.wait_for()
            page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
            page.locator('li.lm-Menu-item[data-command="runmenu:run-all"]').click()
            # Lab 4 may not render off-screen cells: wait for the table to exist, not to show
            table = page.locator(".sq-kpi-table")
            table.wait_for(state="attached")
            page.locator(".sq-status.sq-done").wait_for(state="attached")
            before = _kpi_text(page)
            assert "factory_pass_rate" in before
            budget_before = page.locator(".sq-budget-table").inner_text()

            slider = page.locator(".widget-slider", has_text=SLIDER_LABEL)
            handle = slider.locator(".noUi-handle")
            handle.scroll_into_view_if_needed()
            handle.focus()
            page.keyboard.press("End")  # noUiSlider's keyboard support: to the slider's top
            # the status line is redrawn last, after both tables: wait for the second run's
            page.locator(".sq-status.sq-done", has_text="(run 2)").wait_for(state="attached")
            after = _kpi_text(page)
            assert after != before
            readout = slider.locator(".widget-readout").inner_text()
            assert readout.replace(",", "").strip() == "3000", readout
            # more inspections cost more and fine more: the budget table moves too
            assert page.locator(".sq-budget-table").inner_text() != budget_before
            assert page.locator(".sq-error").count() == 0

            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.locator(".sq-policy-panel").scroll_into_view_if_needed()
            page.screenshot(path=str(SCREENSHOT))
        finally:
            browser.close()
    assert SCREENSHOT.stat().st_size > 10_000


def test_without_chromium_the_browser_test_fails_rather_than_skips(tmp_path):
    """With no `chromium` on PATH the browser test must fail, saying how to install it."""
    env = dict(os.environ, PATH=str(Path(sys.executable).parent))
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", f"{__file__}::test_moving_a_slider_changes_the_"
         "displayed_kpis", "-p", "no:cacheprovider", "-q", "-rfs"],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
    assert proc.returncode == 1, proc.stdout[-2000:]
    assert "1 error" in proc.stdout or "1 failed" in proc.stdout
    assert "skipped" not in proc.stdout
    assert "apt-get install -y chromium" in proc.stdout
