"""Parsed page -> main container: drop what is never content and what is boilerplate (navigation,
headers, footers, sidebars, cookie banners, ads, hidden nodes), then find the container that
holds the page's non-link text.

Pure: no I/O, no clock.
"""

from __future__ import annotations

import functools
import re

from selectolax.lexbor import LexborNode

from crawler.text.model import HEADINGS

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
MAX_DESCENT = 200


def _descend(node: LexborNode, weight: int, chars: int, length: int) -> tuple[LexborNode, int]:
    """Go down while one child holds 90% of the non-link weight. `chars` and `length` are the
    weight (links included) and length of the node's text. Both are sums over the text's
    parts: the weight of the child holding most of the text is what the rest leaves, and once
    the children not yet read are shorter than 90% of the weight, none of them can hold it."""
    for _ in range(MAX_DESCENT):  # a chain of thousands of wrappers is no page's layout
        if weight <= 0:
            break
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
