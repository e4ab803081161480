"""The webhook sink: the payload as JSON, signed with HMAC-SHA256, the alert's stable id in a
header for receivers to drop repeats.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import httpx

from crawler.config import AlertConfig
from crawler.errors import DeliveryError
from crawler.watch.payload import ID_HEADER, env_secret

SIGNATURE_HEADER = "X-Policytrail-Signature"


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def send_webhook(sink: AlertConfig, payload: dict[str, Any], client: httpx.Client) -> None:
    body = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()
    headers = {"Content-Type": "application/json", ID_HEADER: payload["id"]}
    secret = env_secret(sink.secret_env, f"webhook secret of {sink.name}")
    if secret:
        headers[SIGNATURE_HEADER] = sign(secret, body)
    try:
        response = client.post(sink.url, content=body, headers=headers, timeout=30)
    except httpx.HTTPError as exc:
        raise DeliveryError(f"webhook {sink.url}: {type(exc).__name__}: {exc}") from exc
    if not 200 <= response.status_code < 300:
        raise DeliveryError(f"webhook {sink.url} answered HTTP {response.status_code}")
