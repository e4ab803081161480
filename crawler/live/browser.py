"""Render pages in headless Chromium: client-rendered policies, bot-guarded ones, and archived
captures whose raw HTML is only a shell.

Playwright drives the system's Chromium (Debian's `chromium`, or `browser.executable`; never a
downloaded build). One browser process serves the whole run, from a thread of its own running
Playwright's asyncio API, so that any worker thread can ask for a page; every page gets a fresh,
isolated context (no cookies carried over), a realistic viewport and user agent (not
"HeadlessChrome"), `navigator.webdriver` false, and no images, media or fonts. A page is read
after its load event, once its text has settled (or the policy's `select` matches text),
within `browser.settle` seconds, and the whole fetch within `browser.timeout`. At most
`browser.concurrency` pages render at once. A crashed browser is started again on the next page.

Archived captures render in the archive's replay: only requests to the archive itself go
through (as PLLC's crawler did), each one counted against the archive's playback limiter, and
at most `browser.replay_resources` of them per page.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from crawler.config import BrowserConfig
from crawler.errors import BrowserUnavailable, FetchError

log = logging.getLogger(__name__)

# As root in a container, and on a closed network: no sandbox, no background traffic.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--disable-blink-features=AutomationControlled",
)
BLOCKED_TYPES = frozenset(["image", "media", "font"])
VIEWPORT = {"width": 1366, "height": 900}
HIDE_WEBDRIVER = "Object.defineProperty(Navigator.prototype, 'webdriver', {get: () => false});"
REPLAY_FRAME = re.compile(r"/\d{4,14}(?:mp_|if_)/")
STABLE_SECONDS = 1.5  # the text unchanged this long has settled...
ENOUGH_TEXT = 400  # ...if there is this much of it (characters); else wait for more
INSTALL = (
    "install Debian's Chromium (apt-get install chromium) and the browser extra "
    "(pip install 'policytrail[browser]'), or set browser.executable"
)


@dataclass(frozen=True, slots=True)
class Rendered:
    """What the browser saw: the page's URL after redirects, its status, and its rendered DOM
    (or, for a PDF, the file's bytes)."""

    url: str
    status: int
    content_type: str
    body: bytes
    seconds: float
    requests: int = 0  # requests the page made that went through
    blocked: int = 0  # requests refused (another host, over the cap, images and fonts)

    @property
    def is_pdf(self) -> bool:
        return "pdf" in self.content_type or self.body[:5] == b"%PDF-"


def find_chromium(configured: str = "") -> str:
    """The Chromium to drive: `browser.executable`, else chromium on PATH."""
    if configured:
        found = shutil.which(configured)
        if not found:
            raise BrowserUnavailable(
                f"browser.executable {configured!r} is not a program; {INSTALL}"
            )
        return found
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    raise BrowserUnavailable(f"no Chromium on PATH to render pages with; {INSTALL}")


class BrowserFetcher:
    """One Chromium for the run, rendering pages for any thread. Start it lazily; close it
    (or use it as a context manager) when the run ends."""

    def __init__(self, options: BrowserConfig | None = None) -> None:
        self.options = options or BrowserConfig()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._playwright: Any = None
        self._browser: Any = None
        self._semaphore: asyncio.Semaphore | None = None
        self._start_lock = threading.Lock()
        self._user_agent = ""
        self.pages = 0
        self.launches = 0

    # -- the browser's own thread ---------------------------------------------------------
    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self._start_lock:
            if self._loop is None:
                try:
                    import playwright.async_api  # noqa: F401
                except ImportError:
                    raise BrowserUnavailable(f"Playwright is not installed; {INSTALL}") from None
                find_chromium(self.options.executable)  # say so now, not on the first page
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=loop.run_forever, name="policytrail-browser", daemon=True
                )
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop

    def _run(self, coroutine: Any, timeout: float) -> Any:
        loop = self._ensure_loop()
        future = asyncio.run_coroutine_threadsafe(coroutine, loop)
        try:
            return future.result(timeout)
        except TimeoutError:
            future.cancel()
            raise FetchError(f"the browser did not answer within {timeout:.0f} s") from None

    async def _browser_instance(self) -> Any:
        """The running browser, launched (again, after a crash) when needed."""
        if self._browser is not None and self._browser.is_connected():
            return self._browser
        from playwright.async_api import async_playwright

        if self._playwright is None:
            self._playwright = await async_playwright().start()
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self.options.concurrency)
        executable = find_chromium(self.options.executable)
        self._browser = await self._playwright.chromium.launch(
            executable_path=executable, args=list(CHROMIUM_ARGS), headless=True
        )
        self.launches += 1
        major = self._browser.version.split(".")[0]
        self._user_agent = (
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
            f"Chrome/{major}.0.0.0 Safari/537.36"
        )
        return self._browser

    # -- rendering ------------------------------------------------------------------------
    def render(
        self,
        url: str,
        *,
        select: str | None = None,
        allow: Callable[[str], bool] | None = None,
        before_request: Callable[[], None] | None = None,
        max_requests: int | None = None,
    ) -> Rendered:
        """Render `url` and return its DOM. `allow(url)`: which requests may go out (all when
        None); `before_request()`: called (in a worker thread) before each one goes, to wait
        for a rate limiter; `max_requests`: the most that go. Raises FetchError on a timeout,
        a crash or a network error, BrowserUnavailable without Chromium or Playwright."""
        timeout = self.options.timeout
        self._ensure_loop()  # BrowserUnavailable before any coroutine exists

        async def bounded() -> Rendered:
            try:
                return await asyncio.wait_for(
                    self._render(url, select, allow, before_request, max_requests), timeout
                )
            except TimeoutError:
                raise FetchError(
                    f"browser: {url} did not render within {timeout:.0f} s (browser.timeout)",
                    url=url,
                ) from None

        return self._run(bounded(), timeout + 15)  # type: ignore[no-any-return]

    async def _render(
        self,
        url: str,
        select: str | None,
        allow: Callable[[str], bool] | None,
        before_request: Callable[[], None] | None,
        max_requests: int | None,
    ) -> Rendered:
        from playwright.async_api import Error as PlaywrightError

        start = time.monotonic()
        try:
            browser = await self._browser_instance()
        except PlaywrightError as exc:
            raise BrowserUnavailable(f"Chromium would not start ({exc}); {INSTALL}") from None
        assert self._semaphore is not None
        async with self._semaphore:
            counts = {"requests": 0, "blocked": 0}
            try:
                context = await browser.new_context(
                    viewport=VIEWPORT, user_agent=self._user_agent, locale="en-US"
                )
            except PlaywrightError as exc:
                self._browser = None  # crashed: start it again next time
                raise FetchError(f"the browser failed ({exc}); retried on the next check") from None
            try:
                await context.add_init_script(HIDE_WEBDRIVER)
                await context.route(
                    "**/*", self._router(counts, allow, before_request, max_requests)
                )
                page = await context.new_page()
                rendered = await self._read(page, context, url, select)
            except PlaywrightError as exc:
                if not browser.is_connected():
                    self._browser = None
                raise FetchError(
                    f"browser: {exc.message.splitlines()[0]} ({url})", url=url
                ) from None
            finally:
                with contextlib.suppress(PlaywrightError):
                    await context.close()
        self.pages += 1
        return Rendered(
            rendered[0],
            rendered[1],
            rendered[2],
            rendered[3],
            time.monotonic() - start,
            counts["requests"],
            counts["blocked"],
        )

    def _router(
        self,
        counts: dict[str, int],
        allow: Callable[[str], bool] | None,
        before_request: Callable[[], None] | None,
        max_requests: int | None,
    ) -> Callable[[Any], Any]:
        async def route(route: Any) -> None:
            request = route.request
            if request.url.startswith(("data:", "blob:")):
                await route.continue_()
                return
            refused = (
                request.resource_type in BLOCKED_TYPES
                or (allow is not None and not allow(request.url))
                or (max_requests is not None and counts["requests"] >= max_requests)
            )
            if refused:
                counts["blocked"] += 1
                await route.abort("blockedbyclient")
                return
            counts["requests"] += 1
            if before_request is not None:
                await asyncio.get_running_loop().run_in_executor(None, before_request)
            await route.continue_()

        return route

    async def _read(
        self, page: Any, context: Any, url: str, select: str | None
    ) -> tuple[str, int, str, bytes]:
        """(final URL, status, content type, body) once the page's text has settled."""
        from playwright.async_api import Error as PlaywrightError

        hard = self.options.timeout * 1000
        statuses: list[int] = []  # of the main frame's documents: a challenge may reload it

        def on_response(response: Any) -> None:
            if response.frame == page.main_frame and response.request.is_navigation_request():
                statuses.append(response.status)

        page.on("response", on_response)
        try:
            response = await page.goto(url, wait_until="commit", timeout=hard)
        except PlaywrightError as exc:
            if "Download is starting" not in str(exc):
                raise
            response = None  # a file Chromium downloads rather than shows: a PDF, most likely
        if response is None or "pdf" in (await response.all_headers()).get("content-type", ""):
            fetched = await context.request.get(url, timeout=hard)
            headers = fetched.headers
            return (
                fetched.url,
                fetched.status,
                headers.get("content-type", ""),
                await fetched.body(),
            )
        # The document, then the load event, if they come within `settle`: a script that
        # never loads must not stall us.
        deadline = time.monotonic() + self.options.settle
        for state in ("domcontentloaded", "load"):
            left = max(0.1, deadline - time.monotonic())
            with contextlib.suppress(PlaywrightError):
                await page.wait_for_load_state(state, timeout=left * 1000)
        frame = await self._settle(page, select, deadline)
        html = await frame.content()
        status = statuses[-1] if statuses else response.status
        return page.url, status, "text/html; charset=utf-8", html.encode("utf-8")

    async def _settle(self, page: Any, select: str | None, deadline: float) -> Any:
        """Wait (until `deadline`: `settle` seconds after the page answered) until the text
        stops changing, with enough of it, or until `select` matches text. Returns the frame
        holding the document: the capture's frame in a framed replay (pywb's `mp_`), else the
        page."""
        from playwright.async_api import Error as PlaywrightError

        last, since = -1, time.monotonic()
        frame = page.main_frame
        while time.monotonic() < deadline:
            frame = next((f for f in page.frames if REPLAY_FRAME.search(f.url)), page.main_frame)
            try:
                if select:
                    found = await frame.evaluate(
                        "(s) => { try { const e = document.querySelector(s);"
                        " return e ? e.innerText.trim().length : 0 } catch (x) { return 0 } }",
                        select,
                    )
                    if found:
                        return frame
                length = await frame.evaluate(
                    "() => document.body ? document.body.innerText.length : 0"
                )
            except PlaywrightError:  # navigating (a script reloaded the page): look again
                length = -1
            now = time.monotonic()
            if length != last:
                last, since = length, now
            elif now - since >= STABLE_SECONDS and length >= ENOUGH_TEXT:
                return frame
            await asyncio.sleep(0.25)
        return frame

    # -- the end --------------------------------------------------------------------------
    def close(self) -> None:
        """Close the browser and stop its thread (no Chromium process is left behind)."""
        if self._loop is None:
            return

        async def stop() -> None:
            if self._browser is not None:
                with contextlib.suppress(Exception):  # already gone
                    await self._browser.close()
            if self._playwright is not None:
                await self._playwright.stop()

        try:
            asyncio.run_coroutine_threadsafe(stop(), self._loop).result(30)
        except Exception as exc:  # closing must not fail the run
            log.warning("closing the browser: %s", exc)
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)
        self._loop.close()
        self._loop = self._thread = None
        self._browser = self._playwright = self._semaphore = None

    def __enter__(self) -> BrowserFetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def same_origin(prefix: str) -> Callable[[str], bool]:
    """`allow` for a replay: only the archive's own scheme, host and port."""
    origin = urlsplit(prefix)

    def allow(url: str) -> bool:
        parts = urlsplit(url)
        return (parts.scheme, parts.netloc) == (origin.scheme, origin.netloc)

    return allow
