"""The e-mail sink: plain and HTML parts over SMTP (STARTTLS or TLS), the alert's id as its
Message-ID. The password comes only from the environment variable the config names.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from typing import Any

from crawler.config import AlertConfig
from crawler.errors import DeliveryError
from crawler.watch.payload import ID_HEADER, env_secret, render_message

# -- sinks ------------------------------------------------------------------------------------


def send_email(sink: AlertConfig, payload: dict[str, Any]) -> None:
    subject, text, html = render_message(payload)
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sink.sender
    message["To"] = ", ".join(sink.to)
    message["Message-ID"] = f"<{payload['id']}@policytrail>"
    message[ID_HEADER] = payload["id"]
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    password = env_secret(sink.password_env, f"SMTP password of {sink.name}")
    try:
        if sink.security == "tls":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                sink.host, sink.port, timeout=30, context=ssl.create_default_context()
            )
        else:
            smtp = smtplib.SMTP(sink.host, sink.port, timeout=30)
        with smtp:
            if sink.security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if sink.username:
                smtp.login(sink.username, password)
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryError(f"SMTP {sink.host}:{sink.port}: {type(exc).__name__}: {exc}") from exc
