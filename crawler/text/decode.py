"""HTML bytes -> str: BOM, HTTP charset, <meta charset>, then UTF-8 or a legacy encoding.

Pure: no I/O, no clock.
"""

from __future__ import annotations

import codecs
import re

from crawler.text.model import Document

META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.I)


def decode_html(body: bytes, content_type: str = "") -> str:
    """Decode HTML bytes: BOM, HTTP charset, <meta charset>, then UTF-8 or windows-1252."""
    for bom, encoding in BOMS:
        if body.startswith(bom):
            return body[len(bom) :].decode(encoding, errors="replace")
    for encoding in _labels(body, content_type):
        if encoding == "utf-8":
            try:
                return body.decode("utf-8")
            except UnicodeDecodeError:
                continue  # a wrong label; fall through to detection
        return body.decode(encoding, errors="replace")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    for encoding in ("shift_jis", "euc-jp", "gb18030"):
        try:
            text = body.decode(encoding)
        except UnicodeDecodeError:
            continue
        if sum(1 for ch in text if ord(ch) > 0x3000) > len(text) / 50:
            return text
    return body.decode("cp1252", errors="replace")


BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


NOT_PAGE_ENCODINGS = frozenset(
    ["idna", "punycode", "undefined", "rot-13", "raw-unicode-escape", "unicode-escape"]
)


def _labels(body: bytes, content_type: str) -> list[str]:
    """The encodings the HTTP header and then <meta charset> name, those Python knows."""
    names: list[str] = []
    match = re.search(r"charset\s*=\s*[\"']?([a-zA-Z0-9_.:-]+)", content_type or "", re.I)
    if match:
        names.append(match.group(1))
    meta = META_CHARSET.search(body[:8192])
    if meta:
        names.append(meta.group(1).decode("ascii", "replace"))
    encodings = []
    for name in names:
        try:
            info = codecs.lookup(name)
        except LookupError:
            continue
        encoding = info.name
        # Codecs Python knows that are no text encodings (base64, hex, rot13, zlib, bz2, uu,
        # quopri) or no page's (idna, punycode, undefined): a hostile label, ignored.
        if not getattr(info, "_is_text_encoding", True) or encoding in NOT_PAGE_ENCODINGS:
            continue
        # Browsers read latin-1 and ascii labels as windows-1252 (WHATWG Encoding).
        encodings.append("cp1252" if encoding in ("latin-1", "iso8859-1", "ascii") else encoding)
    return encodings


def _utf8_bytes(body: bytes, content_type: str) -> bytes | None:
    """The bytes to parse as UTF-8 as they are, when UTF-8 is what decode_html would try
    first: lexbor parses bytes a third faster than a str (which it would encode again), and
    decoding a page only to check it is UTF-8 costs as much again. None: decode it first."""
    if body.startswith(codecs.BOM_UTF8):
        body = body[len(codecs.BOM_UTF8) :]
    elif body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return None
    else:
        labels = _labels(body, content_type)
        if labels and labels[0] != "utf-8":
            return None
    return body if b"<" in body else None  # no markup at all: decode_html's path says why


def _replaced(document: Document) -> bool:
    """U+FFFD in the text: bytes that were not UTF-8, or the page's own replacement marks."""
    return "\ufffd" in document.title or any("\ufffd" in block.text for block in document.blocks)


def _utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def looks_like_html(body: bytes, content_type: str = "") -> bool:
    ctype = content_type.split(";")[0].strip().lower()
    if ctype in ("text/html", "application/xhtml+xml", "text/plain", ""):
        head = body[:2048].lstrip().lower()
        return ctype != "" or head.startswith((b"<!doctype", b"<html", b"<head", b"<body", b"<"))
    return False
