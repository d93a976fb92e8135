"""The built site in a real browser: pages render, search works, nothing is broken.

Builds the site with ``mkdocs build --strict``, serves it on a free loopback port and loads
pages in Debian's headless Chromium through Playwright (no browser download). Each page must
load with no console error, no uncaught exception and no request outside the loopback server,
and every in-page anchor (``href="#..."``) must name an element of that page. Screenshots of
three pages and of a search are kept as test artefacts, under pytest's temporary directory or
in ``$SAGELLM_DOCS_SCREENSHOTS`` (the path is printed). Skipped, saying why, without the
``docs`` extra or without ``/usr/bin/chromium`` (``apt-get install -y chromium``).
"""

from __future__ import annotations

import functools
import http.server
import importlib.util
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS_ENV = "SAGELLM_DOCS_SCREENSHOTS"
"""A folder for the screenshots that outlives pytest's temporary ones (``.ci/run`` sets it)."""
PAGES = {
    "home": "",
    "api-reference": "api/validation/",
    "getting-started": "getting-started/",
    "api-openai-types": "api/modules/openai/",  # the largest page of TypedDicts with their keys
}

pytestmark = [
    pytest.mark.skipif(
        importlib.util.find_spec("mkdocs") is None
        or importlib.util.find_spec("playwright") is None,
        reason="the docs extra is not installed: pip install -e '.[docs]'",
    ),
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason=f"no {CHROMIUM}: apt-get install -y chromium (Debian)"
    ),
]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    built = tmp_path_factory.mktemp("site") / "site"
    subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "-d", str(built)],
        cwd=ROOT,
        check=True,
        env={"NO_MKDOCS_2_WARNING": "1", "PATH": str(Path(sys.executable).parent)},
    )
    return built


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Requests are not worth a line each in the test output."""


@pytest.fixture(scope="module")
def base_url(site: Path) -> Iterator[str]:
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(scope="module")
def browser(base_url: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    kept = os.environ.get(SCREENSHOTS_ENV)  # pytest keeps only its last three temporary folders
    folder = Path(kept) if kept else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    print(f"screenshots of the site: {folder}")
    return folder


def load(browser: Any, url: str, base_url: str) -> tuple[Any, list[str]]:
    """Open ``url`` in a new page; the problems seen while it loads are listed as they come."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems: list[str] = []
    page.on(
        "console",
        lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None,
    )
    page.on("pageerror", lambda error: problems.append(f"uncaught: {error}"))
    page.on("requestfailed", lambda request: problems.append(f"failed request: {request.url}"))

    def only_loopback(route: Any) -> None:
        if route.request.url.startswith(base_url):
            route.continue_()
        else:
            problems.append(f"request outside the site: {route.request.url}")
            route.abort()

    page.route("**/*", only_loopback)
    response = page.goto(url, wait_until="networkidle")
    assert response is not None, f"{url}: no response"
    assert response.status == 200, f"{url}: HTTP {response.status}"
    return page, problems


BROKEN_ANCHORS = """() => [...document.querySelectorAll('a[href^="#"]')]
    .map(a => decodeURIComponent(a.getAttribute('href').slice(1)))
    .filter(id => id && !document.getElementById(id) && !document.getElementsByName(id).length)"""


@pytest.mark.parametrize("name", PAGES)
def test_a_page_renders_without_console_errors_or_broken_anchors(
    browser: Any, base_url: str, screenshots: Path, name: str
) -> None:
    page, problems = load(browser, base_url + PAGES[name], base_url)
    try:
        assert page.locator("article h1").count() == 1, "the page has no title"
        assert page.locator("nav.md-nav").count() > 0, "the page has no navigation"
        assert page.evaluate(BROKEN_ANCHORS) == []
        page.screenshot(path=str(screenshots / f"{name}.png"), full_page=False)
        assert problems == []
    finally:
        page.close()


def test_the_api_reference_shows_functions_and_each_typed_dict_key(
    browser: Any, base_url: str
) -> None:
    page, problems = load(browser, base_url + "api/types/", base_url)
    try:
        headings = page.locator("article h2, article h3").all_inner_texts()
        assert any(heading.strip().startswith("Request") for heading in headings)
        key = page.locator("[id='sagellm_protocol.Request.max_tokens']")
        assert key.count() == 1, "Request.max_tokens has no entry of its own"
        entry = key.locator("xpath=..").inner_text()
        assert "Maximum number of tokens to generate (> 0)." in entry
        assert problems == []
    finally:
        page.close()


def test_search_finds_a_function_from_its_index(
    browser: Any, base_url: str, screenshots: Path
) -> None:
    page, problems = load(browser, base_url, base_url)
    try:
        index = json.loads(page.request.get(base_url + "search/search_index.json").text())
        locations = {entry["location"] for entry in index["docs"]}
        assert {"getting-started/", "api/validation/"} <= {loc.split("#")[0] for loc in locations}
        search = page.locator("input.md-search__input")
        search.click()
        search.press_sequentially("validate_json", delay=20)  # the search listens to keys
        results = page.locator(".md-search-result__item")
        results.first.wait_for(timeout=15_000)
        assert "validate_json" in results.first.inner_text()
        page.screenshot(path=str(screenshots / "search.png"))
        assert problems == []
    finally:
        page.close()
