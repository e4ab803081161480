"""Links in extracted text: Wayback-rewritten hrefs mapped back to the original URL, made absolute.

Pure: no I/O, no clock.
"""

from __future__ import annotations

import functools
import re
from urllib.parse import unquote, urljoin, urlsplit

WAYBACK_HREF = re.compile(
    r"^(?:https?:)?(?://(?:web\.)?archive\.org)?/web/\d{1,14}(?:[a-z]{2}_)?/(?P<url>.+)$", re.I
)


def original_url(href: str, base_url: str) -> str:
    """Map a Wayback-rewritten href back to the original URL, then make it absolute."""
    href = href.strip()
    if href.startswith(("https://", "http://")) and "/." not in href and "/web/" not in href:
        return href  # already absolute, nothing to resolve: urljoin would return it as it is
    match = WAYBACK_HREF.match(href)
    if match:
        href = match.group("url")
        if href.startswith(("http:/", "https:/")) and not href.startswith(("http://", "https://")):
            href = href.replace(":/", "://", 1)
    if (
        href.startswith("/")
        and not href.startswith("//")
        and not ("?" in href or "#" in href or ";" in href or "/." in href)
    ):
        origin = _origin(base_url)  # a plain path on the same site: what urljoin would make
        if origin:
            return origin + href
    try:
        return urljoin(base_url, href) if base_url else href
    except ValueError:
        return href


@functools.lru_cache(maxsize=256)
def _origin(base_url: str) -> str:
    """`https://host:port` of an http(s) URL, else ""."""
    parts = urlsplit(base_url)
    if parts.scheme in ("http", "https") and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}"
    return ""


def host_of(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    return unquote(host).removeprefix("www.")
