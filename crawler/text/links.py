"""Find a page's links to its site's policies: which link, of all a homepage or a policy page
holds, is the privacy policy (or the terms, or the cookie policy)?

Pure. Each link is scored by its text (an exact name first, then partial words, in many
languages), its URL path words (`/privacy`, `/datenschutz`, `/legal/...`) and its place (a
footer or a legal menu); decoys are refused outright ("Privacy Shield", "privacy settings",
cookie-preference buttons, "Do Not Sell" forms). Links are resolved against the page (and its
<base>), Wayback-rewritten hrefs mapped back to the original URL, `javascript:` and
archive-internal links dropped.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from crawler.text.decode import decode_html
from crawler.text.urls import original_url

# Whole link texts that name the document (lower case, accents kept), per kind.
EXACT = {
    "privacy": (
        "privacy",
        "privacy policy",
        "privacy notice",
        "privacy statement",
        "privacy center",
        "privacy centre",
        "privacy & cookies",
        "privacy and cookies",
        "privacy & cookie policy",
        "privacy and cookie policy",
        "data protection",
        "data policy",
        "privacy & terms",
        "datenschutz",
        "datenschutzerklärung",
        "datenschutzhinweise",
        "datenschutzrichtlinie",
        "confidentialité",
        "politique de confidentialité",
        "protection des données",
        "données personnelles",
        "vie privée",
        "privacidad",
        "política de privacidad",
        "aviso de privacidad",
        "privacidade",
        "política de privacidade",
        "privacy beleid",
        "privacybeleid",
        "privacyverklaring",
        "informativa sulla privacy",
        "privacy policy e cookie",
        "integritetspolicy",
        "personvern",
        "personvernerklæring",
        "privatlivspolitik",
        "tietosuoja",
        "tietosuojaseloste",
        "polityka prywatności",
        "ochrana osobních údajů",
        "gizlilik politikası",
        "политика конфиденциальности",
        "конфиденциальность",
        "プライバシーポリシー",
        "个人信息保护",
        "隐私政策",
        "隱私權政策",
        "개인정보처리방침",
        "개인정보 처리방침",
        "سياسة الخصوصية",
        "מדיניות פרטיות",
    ),
    "terms": (
        "terms",
        "terms of service",
        "terms of use",
        "terms and conditions",
        "terms & conditions",
        "conditions of use",
        "user agreement",
        "legal terms",
        "terms of sale",
        "agb",
        "nutzungsbedingungen",
        "allgemeine geschäftsbedingungen",
        "conditions générales",
        "conditions générales d'utilisation",
        "cgu",
        "cgv",
        "términos y condiciones",
        "términos de uso",
        "condiciones de uso",
        "termos de uso",
        "termos e condições",
        "termini e condizioni",
        "condizioni d'uso",
        "gebruiksvoorwaarden",
        "algemene voorwaarden",
        "användarvillkor",
        "regulamin",
        "利用規約",
        "服务条款",
        "이용약관",
    ),
    "cookies": (
        "cookies",
        "cookie policy",
        "cookies policy",
        "cookie notice",
        "cookie statement",
        "use of cookies",
        "cookie-richtlinie",
        "politique de cookies",
        "politique relative aux cookies",
        "política de cookies",
        "cookiebeleid",
        "cookie-erklärung",
    ),
}
# Words that, inside a longer link text, point at the document.
PARTIAL = {
    "privacy": (
        "privacy",
        "datenschutz",
        "confidentialit",
        "privacidad",
        "privacidade",
        "privatsphäre",
        "données personnelles",
        "data protection",
        "personal data",
        "privacybeleid",
        "riservatezza",
        "integritet",
        "personvern",
        "tietosuoja",
        "prywatno",
        "gizlilik",
        "конфиденциальн",
        "プライバシー",
        "隐私",
        "隱私",
        "개인정보",
        "الخصوصية",
        "פרטיות",
    ),
    "terms": (
        "terms",
        "conditions",
        "agreement",
        "bedingungen",
        "conditions générales",
        "términos",
        "condiciones",
        "termos",
        "condizioni",
        "voorwaarden",
        "villkor",
        "regulamin",
        "規約",
        "条款",
        "약관",
    ),
    "cookies": ("cookie", "cookies", "trackers", "témoins"),
}
PATH_WORDS = {
    "privacy": (
        "privacy",
        "datenschutz",
        "confidentialite",
        "privacidad",
        "privacidade",
        "data-protection",
        "dataprotection",
        "privacybeleid",
        "personvern",
        "tietosuoja",
    ),
    "terms": ("terms", "tos", "conditions", "agb", "legal/terms", "terms-of-use", "cgu", "eula"),
    "cookies": ("cookie", "cookies", "trackers"),
}
DECOYS = re.compile(
    r"privacy shield|privacy settings|privacy preferences|privacy choices|privacy options|"
    r"privacy dashboard|your (?:privacy|california privacy) (?:rights|choices)|do not sell|"
    r"do not share|opt[ -]?out|cookie (?:settings|preferences|consent|choices)|"
    r"manage (?:cookies|consent|preferences)|ad ?choices|accept|reject|privacy request|"
    r"limit the use|consent preferences",
    re.I,
)
PLACES = re.compile(r"footer|legal|bottom|colophon|site-info|copyright", re.I)
OTHER_KINDS = {
    "privacy": ("cookies", "terms"),
    "terms": ("privacy", "cookies"),
    "cookies": ("terms",),
}
CONFIDENT = 6.0  # a score at least this is a confident find


@dataclass(frozen=True, slots=True)
class Candidate:
    url: str
    text: str
    score: float
    evidence: list[str] = field(default_factory=list)

    @property
    def confident(self) -> bool:
        return self.score >= CONFIDENT


def _text(value: str) -> str:
    value = unicodedata.normalize("NFC", value).lower()
    # Zero-width and other format characters (U+200B, U+2060...) are invisible in the link.
    value = "".join(ch for ch in value if unicodedata.category(ch) != "Cf")
    return " ".join(value.replace("\u00a0", " ").split()).strip(" ›»>|·•-–:")


def _place(node: LexborNode) -> str | None:
    parent = node.parent
    depth = 0
    while parent is not None and depth < 12:
        tag = parent.tag or ""
        names = f"{parent.attributes.get('class') or ''} {parent.attributes.get('id') or ''}"
        if tag == "footer" or parent.attributes.get("role") == "contentinfo":
            return "in the footer"
        if PLACES.search(names):
            return "in a legal or footer menu"
        parent, depth = parent.parent, depth + 1
    return None


def score_link(kind: str, text: str, url: str, place: str | None) -> tuple[float, list[str]]:
    """How much a link (its text, URL and place) looks like the link to the `kind` document."""
    if DECOYS.search(text):
        return float("-inf"), [f"a decoy: {text!r}"]
    score, evidence = 0.0, []
    if text in EXACT[kind]:
        score += 6
        evidence.append(f"the link says {text!r}")
    else:
        word = next((w for w in PARTIAL[kind] if w in text), None)
        if word and len(text) <= 60:
            score += 3
            evidence.append(f"the link text holds {word!r}")
    for other in OTHER_KINDS[kind]:
        if text in EXACT[other] and text not in EXACT[kind]:
            score -= 4
    path = urlsplit(url).path.lower()
    word = next((w for w in PATH_WORDS[kind] if w in path), None)
    if word:
        score += 2
        evidence.append(f"the URL path holds {word!r}")
    if place and score > 0:
        score += 1
        evidence.append(place)
    return score, evidence


def _segments(path: str) -> list[str]:
    return [part.lower() for part in path.split("/") if part]


def find_links(html: bytes | str, page_url: str, kind: str = "privacy") -> list[Candidate]:
    """The page's links that may lead to its `kind` document, best first (one per URL)."""
    source = decode_html(html) if isinstance(html, bytes) else html
    parser = LexborHTMLParser(source)
    base = page_url
    base_node = parser.css_first("base[href]")
    if base_node is not None:
        base = urljoin(page_url, base_node.attributes.get("href") or "")
    page = urlsplit(page_url)
    best: dict[str, Candidate] = {}
    for node in parser.css("a[href], area[href]"):
        href = (node.attributes.get("href") or "").strip()
        if not href or href.startswith(("javascript:", "mailto:", "tel:", "#", "data:")):
            continue
        url = original_url(href, base).split("#")[0]
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or "archive.org" in parts.netloc:
            continue
        if (parts.netloc, parts.path, parts.query) == (page.netloc, page.path, page.query):
            continue  # the page itself
        label = node.text(deep=True) or ""
        label = label or node.attributes.get("aria-label") or node.attributes.get("title") or ""
        text = _text(label)
        score, evidence = score_link(kind, text, url, _place(node))
        if score <= 0:
            continue
        if _segments(parts.path)[:1] == _segments(page.path)[:1]:
            score += 0.5  # between equals, the one beside the page (its legal section, locale)
        if url not in best or best[url].score < score:
            best[url] = Candidate(url, text, score, evidence)
    return sorted(best.values(), key=lambda c: -c.score)
