"""HTML bytes → Document: the main content of a policy page as html2text-style markdown.

Pure: no I/O, no clock. The only module that imports selectolax (the lexbor backend).

Steps: decode (HTTP charset, BOM, <meta charset>, then detection) → parse → drop what is never
content (scripts, styles, forms' controls, hidden nodes) → drop boilerplate by tag, role and class
(navigation, headers, footers, sidebars, cookie banners, ads) → pick the main container by where
the non-link text is → render blocks as html2text would, without line wrapping.
"""

from __future__ import annotations

import codecs
import collections
import functools
import itertools
import re
from dataclasses import dataclass
from typing import Any, NamedTuple
from urllib.parse import unquote, urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from crawler.errors import ExtractionError

# Bump when the output for the same bytes changes: versions re-extracted by a newer extractor are
# recorded as technical changes, never as policy changes. 2: a UTF-8 page with stray bytes only
# where no text is taken from (a script) keeps its UTF-8 text, instead of being decoded whole as
# windows-1252; the lenient fallback drops modal dialogs (consent walls) too.
EXTRACTOR_VERSION = 2

# Elements that hold text no reader sees as the page's. Not the empty ones (<input>, <link>,
# <meta>, <embed>, <source>, <track>: nothing to weigh, and the walk skips empty elements), nor
# <head> (never inside <body>): every name costs the selector engine a test at every node.
NEVER_CONTENT = (
    ":is(script, style, noscript, template, svg, iframe, object, canvas, button, select, "
    "textarea, option, datalist, map, audio, video, dialog)"
)
BOILERPLATE_TAGS = ("nav", "footer", "aside")
BOILERPLATE_ROLES = (
    "navigation",
    "banner",
    "contentinfo",
    "complementary",
    "search",
    "menu",
    "menubar",
    "dialog",
    "alertdialog",
)
# Class/id words of boilerplate, after Readability's unlikelyCandidates, plus cookie/consent walls:
# whole words of a class or id, split at spaces, "-" and "_" ("site-footer", "ad_slot").
UNLIKELY_WORDS = frozenset(
    ["ad", "ads", "adv", "advert", "advertisement", "adslot", "banner", "breadcrumb"]
    + ["breadcrumbs", "combx", "comment", "community", "cookie", "cookies", "consent", "disqus"]
    + ["footer", "header", "masthead", "menu", "navbar", "nav", "navigation", "pagination"]
    + ["pager", "popup", "modal", "related", "share", "sharing", "social", "sidebar"]
    + ["skyscraper", "sponsor", "sponsored", "promo", "newsletter", "subscribe", "skip"]
    + ["toolbar", "topbar", "widget"]
)


def _unlikely_word(names: str) -> bool:
    """A boilerplate word among class or id names (five times faster than one regex)."""
    words = names.lower().replace("-", " ").replace("_", " ").split()
    return not UNLIKELY_WORDS.isdisjoint(words)


# Searched in casefolded names: a case-insensitive regex is eight times slower.
MAYBE_CONTENT = re.compile(
    r"article|body|content|main|column|policy|privacy|terms|legal|text|post|entry|page"
)
HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
BLOCK_TAGS = frozenset(
    [
        "address",
        "article",
        "aside",
        "blockquote",
        "body",
        "center",
        "dd",
        "details",
        "dialog",
        "dir",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hgroup",
        "hr",
        "html",
        "li",
        "main",
        "menu",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "summary",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "tr",
        "ul",
        "caption",
        "legend",
    ]
)
HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
WS = re.compile(r"[ \t\n\r\f\v\u00a0\u200b\ufeff]+")
WAYBACK_HREF = re.compile(
    r"^(?:https?:)?(?://(?:web\.)?archive\.org)?/web/\d{1,14}(?:[a-z]{2}_)?/(?P<url>.+)$", re.I
)
META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.I)


class Block(NamedTuple):
    """One block of content. kind: heading, para, item, row, rule, pre. `text` is inline markdown.

    `level` is the heading level, or the list depth (1 = top) of an item; `marker` is an item's
    bullet (`*` or `3.`); `quote` is the blockquote depth. A named tuple: a page makes hundreds,
    and a frozen dataclass takes three times as long to make.
    """

    kind: str
    text: str
    level: int = 0
    marker: str = ""
    quote: int = 0
    start: bool = False  # the first item of a top-level list, or the first row of a table


@dataclass(frozen=True, slots=True)
class Document:
    """The main content of a page: its title and its blocks."""

    title: str
    blocks: tuple[Block, ...]


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
            encoding = codecs.lookup(name).name
        except LookupError:
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


def _is_hidden(attrs: dict[str, str | None]) -> bool:
    """Hidden from every reader. Not `aria-hidden`: it hides from screen readers only, and pages
    set it on collapsed accordion panels of the policy itself, and on the whole page behind
    a consent dialog."""
    if "hidden" in attrs:
        return True
    style = attrs.get("style")
    return bool(style) and _hiding_style(style)


@functools.lru_cache(maxsize=4096)
def _hiding_style(style: str) -> bool:
    """`display: none` or `visibility: hidden` (pages repeat the same few styles)."""
    return HIDDEN_STYLE.search(style) is not None


# In :is(), as one selector: a plain list returns a node once per selector it matches. The
# commonest first: the engine stops at the first that matches.
STRUCTURAL_CANDIDATES = ":is(nav, footer, aside, header, [role], [hidden], [style])"
NAMED_CANDIDATES = ":is([class], [id])"
HIDDEN_CANDIDATES = ":is([hidden], [style])"
NEVER_NAMED_BOILERPLATE = frozenset(["body", "html", "main", "article", "a", *HEADINGS])


def _drop_boilerplate(root: LexborNode) -> tuple[int, int]:
    """Drop navigation, headers, footers, sidebars, banners, ads and hidden nodes (by tag, role
    and class/id words, after Readability's unlikelyCandidates). Returns the weight and length
    of the text dropped.

    In two passes, for speed: what tag, role and hiding decide goes first, and the class and
    id words are then read only on what is left (about half the nodes: menus, footers and
    banners are full of named elements). The one test that reads the page, whether an element
    named like boilerplate only by its id is a section of the document, is made first, on the
    page as it is, as a single pass would."""
    sections = {
        node.mem_id: _a_section(node)
        for node in root.css("[id]")
        if _named_only_by_id(node.tag or "", node.attributes)
    }
    doomed = [node for node in root.css(STRUCTURAL_CANDIDATES) if _structural(node, True)]
    weight, length = _decompose_all(doomed, count=True)
    doomed = []
    for node in root.css(NAMED_CANDIDATES):
        tag = node.tag
        if tag in NEVER_NAMED_BOILERPLATE:
            continue  # a heading's id is a slug of its text: "cookies", "sharing", "advertising"
        classes, names = _names(node.attributes)
        if not _unlikely(names):
            continue  # most nodes: a class of the page's own design
        # Named so by its class, or only by its id (a slug, maybe of its own heading).
        if _unlikely_word(classes) or not sections.get(node.mem_id, False):
            doomed.append(node)
    more_weight, more_length = _decompose_all(doomed, count=True)
    return weight + more_weight, length + more_length


def _drop_hidden(root: LexborNode) -> None:
    """The lenient pass: what is hidden, and modal dialogs (a consent wall over the page)."""
    doomed = [node for node in root.css(HIDDEN_CANDIDATES) if _structural(node, False)]
    _decompose_all(doomed + root.css(MODAL_DIALOGS))


MODAL_DIALOGS = ":is([role=dialog], [role=alertdialog], [aria-modal=true])"


def _structural(node: LexborNode, strict: bool) -> bool:
    """Hidden (always); navigation, footer, sidebar or a banner by tag or role (when strict)."""
    tag = node.tag
    if tag == "body" or tag == "html":
        return False
    attrs = node.attributes
    if _is_hidden(attrs):
        return True
    return strict and (
        tag in BOILERPLATE_TAGS
        or attrs.get("role") in BOILERPLATE_ROLES
        or tag == "header"
        and not _inside(node, ("article", "main"))
    )


def _named_only_by_id(tag: str, attrs: dict[str, str | None]) -> bool:
    """Named like boilerplate by its id but not by its class: kept if it is a section."""
    if tag in NEVER_NAMED_BOILERPLATE or not attrs.get("id"):
        return False
    classes, names = _names(attrs)
    return _unlikely(names) and not _unlikely_word(classes)


def _names(attrs: dict[str, str | None]) -> tuple[str, str]:
    """The class, and the class and id together: the names boilerplate is known by."""
    classes, ident = attrs.get("class") or "", attrs.get("id")
    return classes, f"{classes} {ident}" if ident else classes  # a trailing space is nothing


def _a_section(node: LexborNode) -> bool:
    """A part of the document itself, whatever its id says: it opens with a heading and holds
    real text (`<section id="cookies"><h2>Cookies</h2>…`)."""
    return node.css_first(HEADING_SELECTOR) is not None and _chars(node.text(deep=True)) > 300


@functools.lru_cache(maxsize=4096)
def _unlikely(names: str) -> bool:
    """Class and id words of boilerplate (pages repeat the same few class strings)."""
    return _unlikely_word(names) and not MAYBE_CONTENT.search(names.casefold())


HEADING_SELECTOR = "h1, h2, h3, h4, h5, h6"


def _a_trigger(button: LexborNode) -> bool:
    """An accordion's trigger: a button that holds a heading, or sits in one, is the title of
    the section it opens."""
    return button.css_first(HEADING_SELECTOR) is not None or _inside(button, tuple(HEADINGS))


def _prepare(root: LexborNode, remove: str | None) -> None:
    """What every pass drops first: controls, scripts and the like (an accordion trigger's text
    kept), and the policy's own `remove` selectors."""
    for node in reversed(root.css(NEVER_CONTENT)):  # document order: the deepest go first
        if node.tag == "button" and _a_trigger(node):
            node.unwrap()
        else:
            node.decompose()
    if remove:
        _decompose_all(root.css(remove))


def _decompose_all(nodes: list[LexborNode], count: bool = False) -> tuple[int, int]:
    """Decompose nodes, and with `count` return the weight and length of the text they held.

    Decomposing a node frees its subtree: the nodes inside another listed one are found
    first, while every node is still there, and only the outermost are decomposed (in any
    order, a node listed twice once)."""
    listed = {node.mem_id for node in nodes}
    outermost: dict[int, LexborNode] = {}
    for node in nodes:
        parent = node.parent
        while parent is not None and parent.mem_id not in listed:
            parent = parent.parent
        if parent is None:
            outermost[node.mem_id] = node
    weight = length = 0
    for node in outermost.values():
        if count:
            text = node.text(deep=True) or ""
            weight, length = weight + _chars(text), length + len(text)
        node.decompose()
    return weight, length


def _inside(node: LexborNode, tags: tuple[str, ...]) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.tag in tags:
            return True
        parent = parent.parent
    return False


def _chars(text: str | None) -> int:
    """Non-whitespace characters: a text's weight. Counting the usual spaces is five times
    faster than splitting, and the weights are only ever compared with each other."""
    if not text:
        return 0
    # Counting is a pass over the text; asking whether a rare character is there at all is
    # nearly free.
    weight = len(text) - text.count(" ")
    for space in "\n\t\r" if text.isascii() else "\n\t\r\xa0\u3000":
        if space in text:
            weight -= text.count(space)
    return weight


def _link_chars(node: LexborNode) -> int:
    return _chars(" ".join(a.text(deep=True) or "" for a in node.css("a")))


def _main_container(
    body: LexborNode, size: tuple[int, int] | None = None
) -> tuple[LexborNode, int]:
    """The main container and its non-link text weight. `size`: the weight and length of
    body's text, if known.

    `<main>`, `[role=main]` or a single `<article>` when it holds most of the text; otherwise
    descend from body while one child holds nearly all of the non-link text."""
    if size is None:
        text = body.text(deep=True) or ""
        size = _chars(text), len(text)
    chars, length = size
    body_weight = chars - _link_chars(body)
    marked = body.css(":is(main, [role=main], article)")  # one pass for the three
    for found in (
        [node for node in marked if node.tag == "main"],
        [node for node in marked if node.attributes.get("role") == "main"],
        [node for node in marked if node.tag == "article"],
    ):
        if len(found) == 1:
            text = found[0].text(deep=True) or ""
            found_chars = _chars(text)
            weight = found_chars - _link_chars(found[0])
            if weight >= 0.6 * body_weight:
                return _descend(found[0], weight, found_chars, len(text))
    return _descend(body, body_weight, chars, length)


NOT_CONTAINERS = ("ul", "ol", "p", "table", "tr", "tbody")


def _descend(node: LexborNode, weight: int, chars: int, length: int) -> tuple[LexborNode, int]:
    """Go down while one child holds 90% of the non-link weight. `chars` and `length` are the
    weight (links included) and length of the node's text. Both are sums over the text's
    parts: the weight of the child holding most of the text is what the rest leaves, and once
    the children not yet read are shorter than 90% of the weight, none of them can hold it."""
    while weight > 0:
        elements, own_text, own_chars, own_length = [], False, 0, 0
        child = node.child
        while child is not None:
            if child.is_element_node:
                elements.append(child)
            elif child.tag == "-text":
                content = child.text_content
                if content:
                    own_length += len(content)
                    if content.strip(" \n\t\r"):  # else it weighs nothing
                        own_chars += _chars(content)
                        own_text = own_text or bool(content.strip())
            child = child.next
        if not elements:
            break
        if len(elements) == 1 and not own_text:
            # A wrapper around one element holds all of its weight: descend without weighing.
            if elements[0].tag in NOT_CONTAINERS:
                break
            node, chars, length = elements[0], chars - own_chars, length - own_length
            continue
        # Only a child holding 90% of the weight can be chosen, and a text's weight is at most
        # its length: weigh the long texts only.
        floor = 0.9 * weight
        unread = length - own_length
        texts: list[str] = []
        long: list[int] = []
        for element in elements:
            if unread < floor and not long:
                break  # no child left is long enough
            text = element.text(deep=True) or ""
            if len(text) >= floor:
                long.append(len(texts))
            texts.append(text)
            unread -= len(text)
        children: list[tuple[int, int]] = []  # (weight, index)
        if len(long) == 1 and 2 * len(texts[long[0]]) >= sum(map(len, texts)):
            rest = sum(_chars(text) for i, text in enumerate(texts) if i != long[0])
            children.append((chars - own_chars - rest, long[0]))
        else:
            children = [(_chars(texts[i]), i) for i in long]
            children.sort(key=lambda item: -item[0])
        best, best_weight, best_chars = -1, 0, 0
        for total, i in children[:3]:
            if total < 0.9 * weight:
                break
            own = total - _link_chars(elements[i])
            if own > best_weight:
                best, best_weight, best_chars = i, own, total
        if best < 0 or best_weight < 0.9 * weight or elements[best].tag in NOT_CONTAINERS:
            break
        node, length = elements[best], len(texts[best])
        weight, chars = best_weight, best_chars
    return node, weight


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


def page_title(raw: str) -> str:
    """The page's <title>, whitespace collapsed: the reference corpus keeps it whole (all 46 of
    its pages), even where Readability's heuristics would trim a site name."""
    return WS.sub(" ", raw).strip()


def extract(
    body: bytes | str,
    *,
    content_type: str = "",
    base_url: str = "",
    select: str | None = None,
    remove: str | None = None,
    document: tuple[str, ...] = (),
) -> Document:
    """Extract the main content of an HTML page. Raises ExtractionError for a page with no text.

    `document`: phrases naming the wanted document (see `document_hints`), used when a page
    holds several documents, such as terms, privacy and cookie policies on one page."""
    if isinstance(body, bytes):
        utf8 = _utf8_bytes(body, content_type)
        if utf8 is not None:
            found = _extract(utf8, base_url, select, remove, document)
            # Bytes that are not UTF-8 show as U+FFFD. If they reach the text, decode the page
            # as decode_html does (another label, or detection) and extract again; if they
            # are only in what is never text (a script, say), the UTF-8 reading stands.
            if not _replaced(found) or _utf8(utf8):
                return found
        body = decode_html(body, content_type)
    return _extract(body, base_url, select, remove, document)


def _extract(
    source: str | bytes,
    base_url: str,
    select: str | None,
    remove: str | None,
    document: tuple[str, ...],
) -> Document:
    if isinstance(source, str):
        if not source or source.isspace():
            raise ExtractionError("empty body: no HTML to extract")
        source = source.replace("\x00", "")
    elif b"\x00" in source:
        source = source.replace(b"\x00", b"")
    parser = LexborHTMLParser(source)
    title_node = parser.css_first("title")
    title = page_title(title_node.text(deep=True) if title_node else "")
    root = parser.body
    if root is None:
        raise ExtractionError("no <body> in the page")
    _prepare(root, remove)
    containers: list[LexborNode]
    walker = _Walker(base_url)
    if select:
        containers = root.css(select)
        if not containers:
            raise ExtractionError(f"the select selector {select!r} matches nothing on this page")
    else:
        page_text = root.text(deep=True) or ""
        page_chars = _chars(page_text)
        h1s = [h for h in root.css("h1") if 0 < _chars(h.text(deep=True)) <= 200]
        h1_texts = [WS.sub(" ", h.text(deep=True)).strip() for h in h1s]
        lone_h1 = h1_texts[0] if len(h1_texts) == 1 else None
        # Among several <h1>s, the one that names the wanted document is its title.
        named = [t for t in h1_texts if document and any(d in _plain(t) for d in document)]
        named_h1 = named[0] if len(h1_texts) > 1 and len(named) == 1 else None
        removed, removed_length = _drop_boilerplate(root)
        body_size = page_chars - removed, len(page_text) - removed_length
        main, weight = _main_container(root, body_size)
        # Readability's fallback: if the strict pass lost most of the page's non-link text,
        # parse again and drop only what is hidden. That text weighs at most the page's text:
        # parse again (and weigh the page's links) only when that could be so.
        if weight < 0.3 * page_chars:
            lenient_root = LexborHTMLParser(source).body
            assert lenient_root is not None
            _prepare(lenient_root, remove)  # the page as it was before the strict pass
            if weight < 0.3 * (page_chars - _link_chars(lenient_root)):
                _drop_hidden(lenient_root)
                lenient, lenient_weight = _main_container(lenient_root)
                if lenient_weight > weight:
                    main = lenient
        containers = [main]
        # The document's title often sits in a page header outside the text's container.
        if lone_h1 and main.css_first("h1") is None:
            walker.blocks.append(Block("heading", _escape(lone_h1), 1))
        elif named_h1 and named_h1 not in [
            WS.sub(" ", h.text(deep=True)).strip() for h in main.css("h1")
        ]:
            walker.blocks.append(Block("heading", _escape(named_h1), 1))
    for container in containers:
        walker.walk(container)
        walker.flush()
    blocks = walker.finish()
    if document and not select:
        blocks = choose_document(blocks, document)
    return Document(title=title, blocks=tuple(blocks))


def looks_like_html(body: bytes, content_type: str = "") -> bool:
    ctype = content_type.split(";")[0].strip().lower()
    if ctype in ("text/html", "application/xhtml+xml", "text/plain", ""):
        head = body[:2048].lstrip().lower()
        return ctype != "" or head.startswith((b"<!doctype", b"<html", b"<head", b"<body", b"<"))
    return False


def host_of(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    return unquote(host).removeprefix("www.")


INLINE_MARKERS = {"b": "**", "strong": "**", "i": "_", "em": "_"}
BR = "\x01"  # a <br> in the buffer; source newlines are only whitespace
# html2text escapes what would otherwise read as markdown at the start of a text chunk.
ESCAPE = re.compile(r"^(\s*)(?:(\d+)\.|([-+]))(?=\s)", re.M)


def _escape_match(match: re.Match[str]) -> str:
    if match.group(2) is not None:
        return f"{match.group(1)}{match.group(2)}\\."
    return f"{match.group(1)}\\{match.group(3)}"


# Where ESCAPE could match, found quickly: at the start, or after a newline (a literal the
# regex engine searches for directly instead of trying every position).
ESCAPE_AT_START = re.compile(r"\s*[\d+-]")
ESCAPE_AFTER_NEWLINE = re.compile(r"\n\s*[\d+-]")


def _escape(text: str) -> str:
    if "\n" not in text:
        if text.lstrip()[:1] not in ESCAPE_FIRST:
            return text  # one line, not opening with a digit, "-" or "+": nothing to escape
    elif ESCAPE_AT_START.match(text) is None and ESCAPE_AFTER_NEWLINE.search(text) is None:
        return text
    return ESCAPE.sub(_escape_match, text) if ESCAPE.search(text) else text


ESCAPE_FIRST = frozenset("0123456789-+")


def _wrap(marker: str, text: str) -> str:
    core = text.strip()
    if not core or core.replace("*", "").replace("_", "").strip() == "":
        return text if text.isspace() else core
    lead = " " if text[:1].isspace() else ""
    trail = " " if text[-1:].isspace() else ""
    return f"{lead}{marker}{core}{marker}{trail}"


# What str.split() and WS disagree on: separators split() takes for whitespace and WS does not,
# and the zero-width spaces WS takes and split() does not.
ODD_SPACE = re.compile("[\x1c-\x1f\x85\u1680\u2000-\u200b\u2028\u2029\u202f\u205f\u3000\ufeff]")


def _collapsed(text: str) -> bool:
    """No run for WS.sub to collapse: a search for one character is far faster than any pass
    that looks at every character, and most texts hold none of these."""
    return not (
        "\n" in text
        or "  " in text
        or "\t" in text
        or "\r" in text
        or "\f" in text
        or "\v" in text
        or not text.isascii()
        and ("\xa0" in text or "\u200b" in text or "\ufeff" in text)
    )


def _squash(text: str) -> str:
    """WS.sub(" ", text), quicker."""
    return text if _collapsed(text) else WS.sub(" ", text)


def _collapse(text: str) -> str:
    """WS.sub(" ", text), up to leading and trailing space: str.split's C path whenever it and
    WS agree on what whitespace is."""
    if _collapsed(text):
        return text
    if (
        not ("\x1c" in text or "\x1d" in text or "\x1e" in text or "\x1f" in text)
        if text.isascii()
        else ODD_SPACE.search(text) is None
    ):
        return " ".join(text.split())
    return WS.sub(" ", text)


# The main container is serialised once by lexbor and walked as a token stream: one regex split
# in C, then one Python step per tag, instead of a Python call per DOM node and property. The
# serialiser writes every tag closed and lower-cased, escapes only & < > and U+00A0 in text and
# & " < > in attribute values, and writes comments as <!--…-->: the stream is exact.
TOKEN = re.compile(r"<!--.*?-->|<(/?)([a-zA-Z][^\s/>]*)([^>]*)>", re.S)
TABLES_AND_RAW_TEXT = ":is(table, xmp, plaintext, noembed, noframes)"
HREF = re.compile(r'\shref="([^"]*)"')
VOID_TAGS = frozenset(
    ["area", "base", "br", "col", "embed", "hr", "img", "input", "keygen", "link", "meta"]
    + ["param", "source", "track", "wbr"]
)
LIST_TAGS = frozenset(["ul", "ol", "menu", "dir"])
# Inline elements whose markdown is their text: span, font, u and the like.
TRANSPARENT = frozenset(["span", "font", "u", "small", "sup", "sub", "label", "abbr", "time"])
CODE_TAGS = frozenset(["code", "kbd", "tt", "samp"])
# A cell holding any of these is page layout, not a cell of data.
LAYOUT_IN_CELLS = "p, div, ul, ol, h1, h2, h3, h4, h5, h6, table, blockquote, pre"


def _unescape(text: str) -> str:
    """Undo lexbor's serialiser: it escapes only these in text and attribute values."""
    return (
        text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", '"')
        .replace("&nbsp;", "\xa0")
        .replace("&amp;", "&")
    )


def _is_data_table(table: LexborNode) -> bool:
    """A table of data (render as pipe rows), not a layout table (render its cells as blocks):
    no table inside, no paragraph, list or heading in a cell, no cell of more than 300
    characters, and a row of two cells or more. One selector pass for the whole table, not one
    per cell: policies lay out whole pages in tables of a hundred cells."""
    if len(table.css("table")) > 1:  # css() matches the node itself too
        return False
    for found in table.css(LAYOUT_IN_CELLS):
        if found.mem_id == table.mem_id:
            continue  # the table itself
        parent = found.parent
        while parent is not None and parent.mem_id != table.mem_id:
            if parent.tag == "td" or parent.tag == "th":
                return False  # layout inside a cell
            parent = parent.parent
    cells = table.css("td, th")
    for cell in cells:
        text = cell.text(deep=True) or ""
        if len(text) > 300 and len(_squash(text)) > 300:  # collapsing only shortens a text
            return False
    per_row = collections.Counter(cell.parent.mem_id for cell in cells if cell.parent)
    return max(per_row.values(), default=0) >= 2


# What opening a tag does; _INLINE_ELEMENT for any tag not named here.
_INLINE_ELEMENT, _BLOCK_ELEMENT, _HEADING_ELEMENT, _LIST_ELEMENT, _LIST_ITEM = range(5)
_TABLE_ELEMENT, _OTHER_BLOCK, _VOID = range(5, 8)
OPENS = {tag: _BLOCK_ELEMENT for tag in BLOCK_TAGS}
OPENS.update({tag: _HEADING_ELEMENT for tag in HEADINGS})
OPENS.update({tag: _LIST_ELEMENT for tag in LIST_TAGS})
OPENS.update({tag: _VOID for tag in VOID_TAGS})
OPENS.update({"li": _LIST_ITEM, "table": _TABLE_ELEMENT, "pre": _OTHER_BLOCK})
OPENS["blockquote"] = _OTHER_BLOCK
# An open element: [tag, what closing it does, its parts (inline text), and for those that
# change where text goes, where it went before: outer parts, outer plain, outer convertible;
# then a link's href match]. Lists, not objects: there is one per element of the policy.
_Frame = list[Any]
# What closing an element does (the second field of a frame): up to _QUOTE it only ends a
# block; from _HEADING on it also restores where text goes.
_FLUSH, _NOTHING, _LIST, _ITEM, _QUOTE, _HEADING, _INLINE, _TABLE, _ROW, _CELL = range(10)


class _Walker:
    """Walks a serialised container and collects blocks the way html2text lays them out.

    Text goes to the open block's buffer, or, inside an inline element, to that element's parts
    (an inline element's markdown is known only at its end: a link, bold, code). An inline
    element turns out to be a mere container when a block opens inside it: its parts so far go
    to the buffer and it closes silently. Headings and table cells hold inline text only.
    """

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.blocks: list[Block] = []
        self.buf: list[str] = []
        self.kind = "para"
        self.level = 0
        self.marker = ""
        self.quote = 0
        self.lists: list[list[int | str]] = []  # [type, counter] per open list
        self.start_next = False

    # -- block bookkeeping ------------------------------------------------------------------
    def flush(self) -> None:
        buf = self.buf
        if buf:
            text = "".join(buf)
            buf.clear()  # in place: the walk holds it
            if BR in text:
                lines = [line.strip() for line in _collapse(text).split(BR)]
                joined = "  \n".join(line for line in lines if line)
            else:
                joined = _collapse(text).strip()
            kind = self.kind
            # Not a block of markers alone ("** **"): looking at the first character spares a copy.
            if joined and (kind == "item" or joined[0] not in "*_ " or joined.strip("*_ ")):
                start = False
                if kind == "item" or kind == "row":
                    start, self.start_next = self.start_next, False
                block = (kind, joined, self.level, self.marker, self.quote, start)
                self.blocks.append(tuple.__new__(Block, block))  # Block(), without its checks
        self.kind, self.level, self.marker = "para", 0, ""

    def start(self, kind: str, level: int = 0, marker: str = "") -> None:
        if self.buf:
            self.flush()
        self.kind, self.level, self.marker = kind, level, marker

    def finish(self) -> list[Block]:
        self.flush()
        return self.blocks

    # -- walking --------------------------------------------------------------------------
    def walk(self, container: LexborNode) -> None:
        """Walk one container, itself included (a selected <h2> stays a heading)."""
        data_tables = []
        for node in container.css(TABLES_AND_RAW_TEXT):
            if node.tag == "table":
                data_tables.append(_is_data_table(node))
            elif node.mem_id != container.mem_id:
                # A raw text element: the serialiser writes its text unescaped. Make it text.
                node.replace_with(node.text(deep=True) or "")
        html = container.html or ""
        tokens: list[str | None] = TOKEN.split(html)
        tables = iter(data_tables)
        buf = self.buf
        stack: list[_Frame] = []
        parts: list[str] | None = None  # where text goes: an inline element's, else the buffer
        plain = False  # inside a heading: links and emphasis as plain text
        convertible = False  # the open inline elements sit in a block: a block may open in them
        pre: list[str] | None = None  # the text of an open <pre>
        pre_depth = 0
        table: list[list[str]] | None = None  # rows of the open data table
        row: list[str] = []
        row_th = False
        last = len(tokens) - 1
        for index in range(0, last + 1, 4):
            text = tokens[index]
            if text:
                if "&" in text:
                    text = _unescape(text)
                if pre is not None:
                    pre.append(text)
                elif parts is None and text.isspace():
                    if buf:
                        buf.append(" ")
                else:
                    first = text[0]
                    if first in ESCAPE_FIRST or first.isspace() or "\n" in text:
                        text = _escape(text)
                    (buf if parts is None else parts).append(text)
            if index == last:
                break
            tag = tokens[index + 2]
            if tag is None:
                continue  # a comment
            if tokens[index + 1]:  # a closing tag
                if pre is not None:
                    if tag == "pre":
                        pre_depth -= 1
                        if not pre_depth:
                            body = "".join(pre).strip("\n")
                            self.blocks.append(Block("pre", body, 0, "", self.quote))
                            self.kind, pre = "para", None
                    continue
                if not stack or stack[-1][0] != tag:
                    continue  # never from lexbor's serialiser; kept for safety
                frame = stack.pop()
                action = frame[1]
                if action >= _HEADING:
                    parts, plain, convertible = frame[3], frame[4], frame[5]
                    if action == _INLINE:
                        tag = frame[0]
                        if tag in TRANSPARENT or plain and tag != "a" and tag not in BLOCK_TAGS:
                            markdown = "".join(frame[2])
                        else:
                            markdown = self.inline(frame, plain)
                        (buf if parts is None else parts).append(markdown)
                    elif action == _CELL:
                        row.append(_squash("".join(frame[2])).strip())
                    elif action == _ROW:
                        self.start("row")
                        buf.append(" | ".join(row))
                        self.flush()
                        if table is not None:
                            if not table and row_th:  # a header row: html2text's rule under it
                                self.start("row")
                                buf.append("---|" * (len(row) - 1) + "---")
                                self.flush()
                            table.append(row)
                    elif action == _TABLE:
                        table = None
                    elif action == _HEADING:
                        buf.append("".join(frame[2]))
                        self.flush()
                elif action <= _ITEM:  # _FLUSH, _NOTHING, _LIST, _ITEM
                    if action == _LIST:
                        self.lists.pop()
                    if action != _NOTHING:
                        if buf:
                            self.flush()
                        else:
                            self.kind, self.level, self.marker = "para", 0, ""
                else:
                    self._close(frame)
                continue
            # An opening tag.
            opens = OPENS.get(tag, _INLINE_ELEMENT)
            if opens == _TABLE_ELEMENT:
                data = next(tables, False)
            if pre is not None:
                if tag == "pre":
                    pre_depth += 1
                continue
            if opens == _VOID:
                if tag == "br":
                    (parts if parts is not None else buf).append(BR)
                elif tag == "hr":
                    if parts is not None:
                        parts.append("  ")
                    else:
                        self.start("rule")
                        buf.append("* * *")
                        self.flush()
                continue
            if parts is not None:
                if table is not None and not convertible:
                    if tag == "tr":
                        row, row_th = [], False
                        stack.append([tag, _ROW, parts, parts, plain, convertible, None])
                        continue
                    if tag == "td" or tag == "th":
                        row_th = row_th or tag == "th"
                        frame = [tag, _CELL, [], parts, plain, convertible, None]
                        stack.append(frame)
                        parts = frame[2]
                        continue
                if opens == _INLINE_ELEMENT or not convertible:
                    href = tag == "a" and HREF.search(tokens[index + 3] or "")
                    frame = [tag, _INLINE, [], parts, plain, convertible, href]
                    stack.append(frame)
                    parts = frame[2]
                    continue
                # A block inside inline elements that sit in a block: they are only containers.
                for frame in stack:
                    if frame[1] == _INLINE and (frame[3] is None or frame[5]):
                        for part in frame[2]:
                            if buf or not part.isspace() and part:
                                buf.append(part)
                        frame[1], frame[3] = _NOTHING, None
                parts, convertible = None, False
            # A block-level context.
            if opens == _BLOCK_ELEMENT:
                # html2text gives <p> and <div> alike a paragraph break; inside a list item, a line.
                if not buf:
                    if self.kind == "item" and (tag == "p" or tag == "div"):
                        stack.append([tag, _NOTHING])
                        continue
                    self.kind, self.level, self.marker = "para", 0, ""
                else:
                    self.flush()
                stack.append([tag, _FLUSH])
            elif opens == _INLINE_ELEMENT:
                href = tag == "a" and HREF.search(tokens[index + 3] or "")
                frame = [tag, _INLINE, [], None, False, False, href]
                stack.append(frame)
                parts, convertible = frame[2], True
            elif opens == _LIST_ITEM:
                depth = max(1, len(self.lists))
                marker = "*"
                if self.lists and self.lists[-1][0] == "ol":
                    counter = int(self.lists[-1][1]) + 1
                    self.lists[-1][1] = counter
                    marker = f"{counter}."
                self.start("item", depth, marker)
                stack.append([tag, _ITEM])
            elif opens == _HEADING_ELEMENT:
                self.start("heading", HEADINGS[tag])
                frame = [tag, _HEADING, [], None, False, False, None]
                stack.append(frame)
                parts, plain = frame[2], True
            elif opens == _LIST_ELEMENT:
                if buf:
                    self.flush()
                else:
                    self.kind, self.level, self.marker = "para", 0, ""
                if not self.lists:
                    self.start_next = True
                self.lists.append([tag, 0])
                stack.append([tag, _LIST])
            elif opens == _TABLE_ELEMENT and data:
                self.flush()
                self.start_next = True
                table = []
                frame = [tag, _TABLE, [], None, False, False, None]
                stack.append(frame)
                parts = frame[2]  # text outside the cells (a caption) is dropped
            elif tag == "pre":
                self.start("pre")
                pre, pre_depth = [], 1
            elif tag == "blockquote":
                self.flush()
                self.quote += 1
                stack.append([tag, _QUOTE])
            else:  # a layout table, and the rest of BLOCK_TAGS
                self.flush()
                stack.append([tag, _FLUSH])
        for frame in reversed(stack):  # never from lexbor's serialiser; kept for safety
            self._close(frame)

    def _close(self, frame: _Frame) -> None:
        action = frame[1]
        if action in (_FLUSH, _ITEM):
            self.flush()
        elif action == _LIST:
            self.lists.pop()
            self.flush()
        elif action == _QUOTE:
            self.flush()
            self.quote -= 1

    def inline(self, frame: _Frame, plain: bool) -> str:
        """An inline element's markdown, from its parts."""
        tag, inner = frame[0], "".join(frame[2])
        if tag in BLOCK_TAGS:
            return " " + inner + " "
        if tag == "a":
            match = frame[6]
            href = _unescape(match.group(1)) if match else ""
            return self.link(href, inner, plain)
        if plain:
            return inner
        if tag in INLINE_MARKERS:
            return _wrap(INLINE_MARKERS[tag], _squash(inner))
        if tag in CODE_TAGS and inner.strip():
            return f"`{inner.strip()}`"
        return inner

    def link(self, href: str, inner: str, plain: bool) -> str:
        text = _squash(inner).strip()
        href = href.strip()
        if not text:
            return ""
        if plain or not href or href.startswith("#") and not self.base_url:
            return inner
        if href.lower().startswith(("javascript:", "data:", "vbscript:")):
            return inner
        url = original_url(href, self.base_url)
        lead = " " if inner[:1].isspace() else ""
        trail = " " if inner[-1:].isspace() else ""
        if text == url:
            return f"{lead}<{url}>{trail}"
        return f"{lead}[{text}]({url.replace(' ', '%20').replace(')', '%29')}){trail}"


# -- pages that hold several documents -------------------------------------------------------

DOCUMENT_WORDS = re.compile(
    r"\b(policy|policies|terms|agreement|notice|statement|addendum|"
    r"guidelines|conditions|imprint|charter|rules)\b",
    re.I,
)
NOT_A_TITLE = re.compile(
    r"^\W*\d|^\W*(?:[A-Z]|[IVXL]+)\.\s|^\W*(?:<|https?:)|"
    r"\b(changes?|updates?|modifications?|to this|of this|our)\b",
    re.I,
)
KIND_HINTS = {
    "privacy": (
        "privacy policy",
        "privacy notice",
        "privacy statement",
        "data protection",
        "privacy",
    ),
    "terms": (
        "terms of service",
        "terms of use",
        "terms and conditions",
        "terms & conditions",
        "user agreement",
        "conditions of use",
        "terms",
    ),
    "cookies": (
        "cookie policy",
        "cookies policy",
        "cookie statement",
        "cookie notice",
        "trackers",
        "cookies",
        "cookie",
    ),
}
TITLE_SYNONYMS = {
    "copyright": ("copyright", "dmca"),
    "acceptable use": ("acceptable use", "usage policy", "use policy"),
    "data processing": ("data processing", "data processor", "dpa"),
    "developer": ("developer terms", "api terms", "developer agreement", "api agreement"),
    "trackers": ("cookie", "trackers"),
}


def document_hints(kind: str, title: str | None = None) -> tuple[str, ...]:
    """Phrases that name the wanted document in its own heading, most specific first."""
    hints: list[str] = []
    if title:
        lowered = " ".join(title.lower().split())
        hints.append(lowered)
        for key, synonyms in TITLE_SYNONYMS.items():
            if key in lowered or any(synonym in lowered for synonym in synonyms):
                hints.extend(synonyms)
    hints.extend(KIND_HINTS.get(kind, ()))
    return tuple(dict.fromkeys(hints))


def _plain(text: str) -> str:
    return " ".join(re.sub(r"[*_`\\\[\]()]", " ", text).lower().split())


def _title_signature(block: Block) -> tuple[str, int] | None:
    """(kind, level) of a block that reads as a document's own title, else None."""
    text = block.text
    if block.kind != "heading" and block.kind != "para" or len(text.split(None, 8)) > 8:
        return None  # split at most 8 times: a paragraph of the policy is not split whole
    if block.kind == "para" and ("*" in text or "_" in text or "[" in text):
        return None
    if not DOCUMENT_WORDS.search(text) or NOT_A_TITLE.search(text):
        return None
    return block.kind, block.level


DOCUMENT_FAMILIES = (
    ("privacy",),
    ("terms", "conditions", "agreement"),
    ("cookie", "trackers"),
    ("copyright", "dmca"),
    ("acceptable use", "usage policy"),
)


def _names_several(title: str) -> bool:
    """A page title such as "Terms, Privacy, & Copyright": the heading of several documents."""
    return sum(1 for family in DOCUMENT_FAMILIES if any(w in title for w in family)) >= 2


def choose_document(blocks: list[Block], hints: tuple[str, ...]) -> list[Block]:
    """On a page holding several documents (three or more titles at one level), keep the one
    whose title matches `hints`; any other page is returned whole."""
    if not hints:
        return blocks
    for block in blocks:
        # A page whose own <h1> names the wanted document is that document.
        if (
            block.kind == "heading"
            and block.level == 1
            and any(h in _plain(block.text) for h in hints)
            and not _names_several(_plain(block.text))
        ):
            return blocks
    titles = [(i, sig) for i, b in enumerate(blocks) if (sig := _title_signature(b))]
    by_signature: dict[tuple[str, int], list[int]] = {}
    for i, sig in titles:
        by_signature.setdefault(sig, []).append(i)
    if all(len(positions) < 3 for positions in by_signature.values()):
        return blocks  # fewer than three titles of a kind: one document
    # Words before each block, so that the words of any run of blocks is one subtraction.
    before = list(itertools.accumulate((len(b.text.split()) for b in blocks), initial=0))
    total_words = before[-1]
    groups = []
    for positions in by_signature.values():
        ends = [*positions[1:], len(blocks)]
        # Documents, not a menu of their names: at least three titles head real text.
        if (
            sum(1 for a, b in zip(positions, ends, strict=True) if before[b] - before[a + 1] >= 60)
            >= 3
        ):
            groups.append(positions)
    for hint in hints:
        best: tuple[int, int, int] | None = None  # (words, start, end)
        for positions in groups:
            for n, start in enumerate(positions):
                if hint not in _plain(blocks[start].text):
                    continue
                end = positions[n + 1] if n + 1 < len(positions) else len(blocks)
                words = before[end] - before[start]
                if words >= 80 and words < 0.9 * total_words and (best is None or words > best[0]):
                    best = (words, start, end)
        if best:
            return blocks[best[1] : best[2]]
    return blocks


def extract_any(
    body: bytes,
    *,
    content_type: str = "",
    base_url: str = "",
    select: str | None = None,
    remove: str | None = None,
    document: tuple[str, ...] = (),
) -> Document:
    """A PDF through crawler.pdf, anything else as HTML. Raises ExtractionError."""
    from crawler.pdf import extract_pdf, is_pdf  # pdf imports this module: import it late

    if is_pdf(body, content_type):
        return extract_pdf(body)
    return extract(
        body,
        content_type=content_type,
        base_url=base_url,
        select=select,
        remove=remove,
        document=document,
    )
