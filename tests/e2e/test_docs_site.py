"""End to end: the documentation site that ``make docs`` built works in a real browser.

The site (``docs/_build/html``, or ``ASYNCPRIMS_DOCS_HTML``) is served over HTTP from
127.0.0.1 by a thread of this process, and every HTML page of it is opened in Debian's
headless Chromium (the ``browser`` fixture of the JupyterLab test). The checks:

- every page loads with no console error, no uncaught exception, no failed request and no
  HTTP error (a missing image, stylesheet, script or icon shows up here);
- each notebook has a page, which shows as many images in its cell outputs as the notebook
  stores image outputs, each one decoded by the browser;
- every internal link (``a[href]`` to the site itself) resolves: the file exists and its
  ``#fragment``, if any, names an element of the target page;
- the API reference has an entry for every name in ``asyncprims.__all__``;
- the site root redirects to the landing page.

The site must be current: when a source (a notebook, a docs page, the README, a module of
the package) is newer than the build, the tests skip locally and fail under CI. A screenshot
of the lock notebook's page, at its first chart, is saved to
``test-artifacts/docs-site/01-lock.png`` (the README shows a copy: docs/docs-site-lock.png).
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from .conftest import ARTIFACTS_DIR, REPO_ROOT, skip_or_fail

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = pytest.mark.e2e

DOCS_BUILD = REPO_ROOT / "docs" / "_build"
DEFAULT_HTML = DOCS_BUILD / "html"
BUILD_STAMP = DOCS_BUILD / ".stamp"  # written by `make docs` after a successful build
LANDING_PAGE = "docs/index.html"
API_PAGE = "docs/api.html"
SCREENSHOT_PAGE = "notebooks/01-lock.html"
PAGE_TIMEOUT_MS = 30_000
VIEWPORT = {"width": 1280, "height": 860}

# What a page shows, read after it loaded: links, anchors, and the images of cell outputs.
READ_PAGE_JS = """
() => ({
  links: [...document.querySelectorAll('a[href]')].map(a => a.href),
  ids: [...document.querySelectorAll('[id]')].map(e => e.id)
    .concat([...document.querySelectorAll('a[name]')].map(a => a.name)),
  outputImages: [...document.querySelectorAll('.cell_output img')].map(img => ({
    src: img.getAttribute('src'),
    decoded: img.complete && img.naturalWidth > 0,
  })),
})
"""


def source_files() -> list[Path]:
    """What the site is built from (the Makefile's DOCS_SOURCES)."""
    patterns = ["notebooks/*.ipynb", "docs/*.md", "docs/conf.py", "asyncprims/*.py"]
    files = [p for pattern in patterns for p in REPO_ROOT.glob(pattern)]
    files += [REPO_ROOT / name for name in ("README.md", "CONTRIBUTING.md", "CHANGELOG.md")]
    return [p for p in files if p.exists()]


def html_folder() -> Path:
    """The built site; skip locally (fail in CI) when it is missing or older than a source."""
    configured = os.environ.get("ASYNCPRIMS_DOCS_HTML")
    if configured:
        folder = Path(configured).resolve()
        if not (folder / LANDING_PAGE).is_file():
            skip_or_fail(f"ASYNCPRIMS_DOCS_HTML={folder} holds no {LANDING_PAGE}")
        return folder
    if not BUILD_STAMP.is_file() or not (DEFAULT_HTML / LANDING_PAGE).is_file():
        skip_or_fail(f"no documentation site in {DEFAULT_HTML}: run `make docs` first")
    built = BUILD_STAMP.stat().st_mtime
    newer = [str(p.relative_to(REPO_ROOT)) for p in source_files() if p.stat().st_mtime > built]
    if newer:
        skip_or_fail(f"the site in {DEFAULT_HTML} is older than {newer[:3]}: run `make docs`")
    return DEFAULT_HTML


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass
class Site:
    """The served site: ``url(relative)`` for a file of ``root``."""

    root: Path
    base_url: str

    def url(self, relative: str) -> str:
        return f"{self.base_url}/{relative}"

    def relative(self, url: str) -> str | None:
        """The site path of ``url`` (without fragment), or None if it is not on the site."""
        if not url.startswith(self.base_url + "/"):
            return None
        path = urllib.parse.urlsplit(url).path.lstrip("/")
        return urllib.parse.unquote(path)

    def pages(self) -> list[str]:
        return sorted(p.relative_to(self.root).as_posix() for p in self.root.rglob("*.html"))


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    root = html_folder()
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="docs-site", daemon=True)
    thread.start()
    try:
        yield Site(root=root, base_url=f"http://127.0.0.1:{server.server_address[1]}")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@dataclass
class Visit:
    """What one page showed."""

    problems: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)
    output_images: list[dict[str, Any]] = field(default_factory=list)
    final_url: str = ""


@pytest.fixture(scope="module")
def visits(site: Site, browser: Browser) -> dict[str, Visit]:
    """Every HTML page of the site, opened once: relative path -> what it showed."""
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    seen: dict[str, Visit] = {}
    try:
        for relative in site.pages():
            visit = Visit()
            page = context.new_page()
            page.on(
                "console",
                lambda message, v=visit: (
                    v.problems.append(f"console {message.type}: {message.text}")
                    if message.type == "error"
                    else None
                ),
            )
            page.on("pageerror", lambda error, v=visit: v.problems.append(f"page error: {error}"))
            page.on(
                "requestfailed",
                lambda request, v=visit: v.problems.append(
                    f"request failed: {request.url} ({request.failure})"
                ),
            )
            page.on(
                "response",
                lambda response, v=visit: (
                    v.problems.append(f"HTTP {response.status}: {response.url}")
                    if response.status >= 400
                    else None
                ),
            )
            if relative == "index.html":
                page.goto(site.url(relative))
                page.wait_for_url(site.url(LANDING_PAGE))
            else:
                page.goto(site.url(relative), wait_until="load")
            page.wait_for_load_state("networkidle")
            shown = page.evaluate(READ_PAGE_JS)
            visit.links = shown["links"]
            visit.ids = set(shown["ids"])
            visit.output_images = shown["outputImages"]
            visit.final_url = page.url
            if relative == SCREENSHOT_PAGE:
                _screenshot_first_chart(page)
            page.close()
            seen[relative] = visit
    finally:
        context.close()
    return seen


def _screenshot_first_chart(page: Any) -> None:
    """The lock notebook's page, scrolled to the heading of the section with its first chart."""
    folder = ARTIFACTS_DIR / "docs-site"
    folder.mkdir(parents=True, exist_ok=True)
    chart = page.locator(".cell_output img").first
    if chart.count():
        top = chart.evaluate(
            """img => {
                const section = img.closest('section');
                const heading = section && section.querySelector('h1, h2, h3');
                const anchor = heading || img;
                return anchor.getBoundingClientRect().top + window.scrollY;
            }"""
        )
        page.evaluate(f"window.scrollTo(0, {max(0, top - 24)})")
        page.wait_for_timeout(200)  # let the scroll settle before the capture
    page.screenshot(path=str(folder / "01-lock.png"))


def test_every_page_loads_without_errors(visits: dict[str, Visit]) -> None:
    assert len(visits) >= 3, f"the site has only {sorted(visits)}"
    problems = [f"{page}: {problem}" for page, v in visits.items() for problem in v.problems]
    assert not problems, "\n".join(problems)


def test_root_redirects_to_the_landing_page(site: Site, visits: dict[str, Visit]) -> None:
    assert visits["index.html"].final_url == site.url(LANDING_PAGE)


def test_every_notebook_page_shows_its_charts(visits: dict[str, Visit]) -> None:
    notebooks = sorted((REPO_ROOT / "notebooks").glob("*.ipynb"))
    assert notebooks, "notebooks/ holds no notebooks"
    problems = []
    for notebook in notebooks:
        page = f"notebooks/{notebook.stem}.html"
        stored = sum(
            1
            for cell in json.loads(notebook.read_text())["cells"]
            for output in cell.get("outputs", [])
            if any(mime.startswith("image/") for mime in output.get("data", {}))
        )
        if page not in visits:
            problems.append(f"{notebook.name}: no page {page}")
            continue
        images = visits[page].output_images
        broken = [image["src"] for image in images if not image["decoded"]]
        if len(images) != stored:
            problems.append(f"{page}: {len(images)} output images, the notebook stores {stored}")
        if broken:
            problems.append(f"{page}: images that did not load: {broken}")
    assert not problems, "\n".join(problems)


def test_every_internal_link_resolves(site: Site, visits: dict[str, Visit]) -> None:
    problems = []
    checked = 0
    for page, visit in visits.items():
        for link in visit.links:
            target = site.relative(link)
            if target is None:
                continue  # another site: not checked (the build runs offline)
            checked += 1
            if target == "" or target.endswith("/"):
                target += "index.html"
            if not (site.root / target).is_file():
                problems.append(f"{page}: {link} -> no file {target}")
                continue
            fragment = urllib.parse.unquote(urllib.parse.urlsplit(link).fragment)
            if fragment and target.endswith(".html"):
                known = visits.get(target)
                if known is None or fragment not in known.ids:
                    problems.append(f"{page}: {link} -> no #{fragment} in {target}")
    assert checked > len(visits), f"only {checked} internal links found"
    assert not problems, f"{len(problems)} broken internal links:\n" + "\n".join(problems)


def test_api_reference_lists_every_public_name(visits: dict[str, Visit]) -> None:
    import asyncprims

    assert API_PAGE in visits, f"no {API_PAGE}"
    missing = [
        name for name in asyncprims.__all__ if f"asyncprims.{name}" not in visits[API_PAGE].ids
    ]
    assert not missing, f"{API_PAGE} has no entry for {missing}: add them to docs/api.md"
