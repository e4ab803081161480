"""Is this page a shell? A page whose text a plain HTTP client cannot see: rendered by scripts
(the HTML is an empty frame), or a bot guard's challenge, or a note asking for JavaScript.

Pure: no I/O. `shell_reason` says why a page needs a browser, or None when its text stands.
"""

from __future__ import annotations

import re

# What challenge pages and script-only pages say instead of the policy (Cloudflare, Akamai,
# DataDome, PerimeterX, hCaptcha and the frameworks' own <noscript> notes).
SHELL_PHRASES = re.compile(
    r"enable javascript|javascript (?:is )?(?:disabled|required)|requires javascript|"
    r"turn on javascript|please enable cookies|checking (?:if the site connection is secure|your browser)|"
    r"just a moment\.\.\.|verify(?:ing)? you are (?:a )?human|are you a robot|"
    r"attention required|access denied|ddos protection|unusual traffic|press (?:&|and) hold|"
    r"(?:complete|solve) the captcha|cf-browser-verification|challenge-platform|"
    r"_incapsula_resource|"
    r"you need to enable javascript to run this app",
    re.I,
)
FEW_WORDS = 60  # fewer words than this, on a page that runs scripts, is no policy
PHRASE_WORDS = 150  # challenge pages are short: a longer text that says "access denied" stands
SHRINK = 0.2  # a text under this share of the policy's last version is a shell too
SCRIPT = re.compile(rb"<script\b", re.I)
NOSCRIPT = re.compile(rb"<noscript[^>]*>(.*?)</noscript>", re.I | re.S)


def shell_reason(
    body: bytes, words: int, text: str = "", previous_words: int | None = None
) -> str | None:
    """Why a page (`body`, its extracted `text` of `words` words) looks like a shell that
    only a browser can read, or None. `previous_words`: the policy's last version's length."""
    # What a page says to clients without scripts is often only in its <noscript>.
    noscript = " ".join(m.decode("utf-8", "replace") for m in NOSCRIPT.findall(body[:200_000]))
    sample = f"{text[:4000]} {noscript[:2000]}"
    match = SHELL_PHRASES.search(sample) if words < PHRASE_WORDS else None
    if match:
        return f"the page says {match.group(0)!r} ({words} words)"
    scripts = len(SCRIPT.findall(body[:2_000_000]))
    if words < FEW_WORDS and scripts:
        return f"{words} words on a page that runs {scripts} script{'s' if scripts != 1 else ''}"
    if previous_words and previous_words >= 100 and words < SHRINK * previous_words and scripts:
        return f"{words} words where the last version had {previous_words}"
    return None
