"""Where a fetch may go (SSRF): a URL reached through a redirect may resolve to a loopback,
private, link-local, multicast or reserved address (in any spelling: checked after DNS
resolution, at every hop) only when the configured URL is itself on such an address, and may
change port only to 80, 443 or the configured URL's own port. `http.allow_private = true`
lifts both rules.
"""

from __future__ import annotations

import ipaddress
import socket
from functools import lru_cache
from urllib.parse import urlsplit

from crawler.config import METADATA_HOSTS
from crawler.errors import FetchError


def _port(url: str) -> int:
    parts = urlsplit(url)
    try:
        return parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return -1


def _special(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def _literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An address written in the URL, in any spelling the C library accepts ("2130706433",
    "0x7f.1", "127.1", "::1")."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


@lru_cache(maxsize=512)
def _internal(host: str) -> bool:
    """Whether `host` is written as, or resolves to, an address no public page lives on."""
    literal = _literal(host)
    if literal is not None:
        return _special(literal)
    try:
        infos = socket.getaddrinfo(host, None)
    except (OSError, UnicodeError):
        return False  # unresolvable: the request itself will fail
    return any(_special(ipaddress.ip_address(str(i[4][0]).split("%")[0])) for i in infos)


@lru_cache(maxsize=512)
def _metadata(host: str) -> bool:
    """A link-local address (169.254.169.254, fe80::) or a cloud metadata name: never a page's,
    whatever the configured URL is on."""
    if host.lower() in METADATA_HOSTS:
        return True
    literal = _literal(host)
    if literal is not None:
        return literal.is_link_local
    try:
        infos = socket.getaddrinfo(host, None)
    except (OSError, UnicodeError):
        return False
    return any(ipaddress.ip_address(str(i[4][0]).split("%")[0]).is_link_local for i in infos)


def may_load(target: str, configured: str, allow_private: bool = False) -> bool:
    """Whether a page read from `configured` may make a request to `target` (a browser's
    navigations and subresources): the address rule of `check_hop`, without its port rule."""
    if allow_private or not target.startswith(("http://", "https://", "ws://", "wss://")):
        return True
    host = urlsplit(target).hostname or ""
    if _metadata(host):
        return False
    return not (_internal(host) and not _internal(urlsplit(configured).hostname or ""))


def check_hop(target: str, configured: str, allow_private: bool = False) -> None:
    """Raise FetchError when a redirect from `configured` to `target` goes where it may not."""
    if allow_private:
        return
    if _metadata(urlsplit(target).hostname or ""):
        raise FetchError(
            f"redirect to {target} leads to a link-local or cloud metadata address; refused",
            url=configured,
        )
    if _port(target) not in (80, 443, _port(configured)):
        raise FetchError(
            f"redirect to {target} changes the port; refused (http.allow_private = true allows it)",
            url=configured,
        )
    host = urlsplit(target).hostname or ""
    if _internal(host) and not _internal(urlsplit(configured).hostname or ""):
        raise FetchError(
            f"redirect to {target} leads to a private or reserved address; refused "
            "(http.allow_private = true allows it)",
            url=configured,
        )
