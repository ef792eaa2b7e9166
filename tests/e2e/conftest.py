"""End-to-end fixtures: the three real processes, and Debian's headless Chromium driven by Playwright (no
browser download, DESIGN §8)."""
import contextlib
from pathlib import Path

import pytest

from tests.api import HttpApi
from tests.harness import Processes, RabbitVhost, make_config

SCREENSHOTS = Path(__file__).parent / "screenshots"
CHROMIUM = "/usr/bin/chromium"
# Without the networking flags Chromium keeps dialling Google's hosts, which this machine refuses.
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
PHONE = {"width": 360, "height": 640}
LAPTOP = {"width": 1366, "height": 800}


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def phone(browser):
    """A fresh phone-sized page (360×640, touch, zh-CN)."""
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN")
    yield context.new_page()
    context.close()


@pytest.fixture
def laptop(browser):
    context = browser.new_context(viewport=LAPTOP, locale="zh-CN")
    yield context.new_page()
    context.close()


def screenshot(page, name):
    """Save a screenshot under tests/e2e/screenshots/ (git-ignored) for a person to look at."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@contextlib.contextmanager
def running_system(mongo_server, **variables):
    """The three real processes on a vhost and databases of their own, configured by `variables` besides the
    test defaults: (config, processes, survey api, gateway api)."""
    vhost = RabbitVhost().create()
    config, variables = make_config(mongo_server.url, vhost.url, **variables)
    procs = Processes(variables).start()
    try:
        yield config, procs, HttpApi(procs.survey_url), HttpApi(procs.gateway_url)
    finally:
        procs.stop_all()
        vhost.delete()


@pytest.fixture(scope="module")
def system(mongo_server):
    """The three real processes (one set per test module): (config, processes, survey api, gateway api)."""
    with running_system(mongo_server) as running:
        yield running
