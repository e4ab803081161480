"""Save Page Now: ask the Internet Archive to capture a page we saw change."""

from __future__ import annotations

import logging

import httpx

log = logging.getLogger(__name__)


SPN_ENV = ("POLICYTRAIL_IA_ACCESS", "POLICYTRAIL_IA_SECRET")


def request_save_page_now(client: httpx.Client, archive_url: str, url: str) -> str:
    """Ask Save Page Now (SPN2) to capture `url`; returns a note. Never raises: a failed request
    is logged and the check goes on. Credentials come from the environment only."""
    import os
    from urllib.parse import urlsplit

    target = urlsplit(archive_url)
    if target.scheme != "https" or target.hostname not in ("web.archive.org", "archive.org"):
        # The credentials are the Internet Archive's: never sent to another host, nor in clear.
        log.warning(
            "save_page_now: %s is not the Internet Archive over https; skipped", archive_url
        )
        return "save page now skipped: only the Internet Archive (https) takes these credentials"
    access, secret = (os.environ.get(name) for name in SPN_ENV)
    if not access or not secret:
        log.warning("save_page_now is on but %s / %s are not set; skipped", *SPN_ENV)
        return "save page now skipped: no credentials in the environment"
    try:
        response = client.post(
            f"{archive_url.rstrip('/')}/save",
            data={"url": url, "skip_first_archive": "1"},
            headers={"Accept": "application/json", "Authorization": f"LOW {access}:{secret}"},
            timeout=60,
        )
    except httpx.HTTPError as exc:
        log.warning("save page now for %s failed: %s", url, exc)
        return f"save page now failed: {type(exc).__name__}"
    if response.status_code != 200:
        log.warning("save page now for %s answered HTTP %s", url, response.status_code)
        return f"save page now answered HTTP {response.status_code}"
    try:
        job = response.json().get("job_id", "")
    except ValueError:
        job = ""
    return f"save page now job {job}".strip()
