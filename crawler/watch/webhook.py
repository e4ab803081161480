"""The webhook sink: the payload as JSON, signed as Standard Webhooks sign (HMAC-SHA256 of
`id.timestamp.body` in `webhook-signature: v1,<base64>`, with `webhook-id` and
`webhook-timestamp`, so a captured delivery cannot be replayed once its timestamp is old), the
alert's stable id for receivers to drop repeats. `X-Policytrail-Signature` (HMAC of the body
alone) is still sent for one release, deprecated. The URL may come from an environment
variable (`url_env`), and URLs are written redacted (scheme and host only) in logs and errors.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import urlsplit

import httpx

from crawler.config import AlertConfig
from crawler.errors import DeliveryError
from crawler.watch.payload import ID_HEADER, env_secret

SIGNATURE_HEADER = "X-Policytrail-Signature"


def sign(secret: str, body: bytes) -> str:
    """The deprecated X-Policytrail-Signature: HMAC-SHA256 of the body alone."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def sign_standard(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """Standard Webhooks' `webhook-signature`: v1, then the base64 HMAC-SHA256 of
    `id.timestamp.body`. Receivers recompute it and refuse timestamps over 5 minutes old."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return (
        "v1,"
        + base64.b64encode(hmac.new(secret.encode(), signed, hashlib.sha256).digest()).decode()
    )


def redacted(url: str) -> str:
    """A URL as logs and errors show it: scheme and host, no path or query (tokens hide there)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}/…" if parts.hostname else "(a webhook URL)"


def send_webhook(
    sink: AlertConfig, payload: dict[str, Any], client: httpx.Client, now: float | None = None
) -> None:
    url = env_secret(sink.url_env, f"webhook URL of {sink.name}") if sink.url_env else sink.url
    body = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()
    headers = {"Content-Type": "application/json", ID_HEADER: payload["id"]}
    secret = env_secret(sink.secret_env, f"webhook secret of {sink.name}")
    if secret:
        timestamp = int(now if now is not None else time.time())
        headers["webhook-id"] = payload["id"]
        headers["webhook-timestamp"] = str(timestamp)
        headers["webhook-signature"] = sign_standard(secret, payload["id"], timestamp, body)
        headers[SIGNATURE_HEADER] = sign(secret, body)  # deprecated: for one release
    try:
        response = client.post(url, content=body, headers=headers, timeout=30)
    except httpx.HTTPError as exc:
        raise DeliveryError(f"webhook {redacted(url)}: {type(exc).__name__}") from None
    if not 200 <= response.status_code < 300:
        raise DeliveryError(f"webhook {redacted(url)} answered HTTP {response.status_code}")
