"""Which document is this page? privacy, terms, cookies, other-legal or not-legal, with a score
and the evidence.

Pure. The features are ones a maintainer can read: what the page's title, first heading and URL
say (the phrases of each kind of document), how many of its headings speak of each kind, how
dense each kind's key phrases are in its text, and its length. A multinomial logistic
regression weighs them: the weights, with the training data's description, are in
`classifier.json` beside this module, written by scripts/train_classifier.py from the real
pages in ../shared/corpus (scripts/bench_discover.py measures it by service). A page with no
legal evidence at all (no title, heading or URL naming a document, few legal phrases) is
`not-legal` by rule: the training pages are all legal documents.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

KINDS = ("privacy", "terms", "cookies", "other-legal")
NAME_PHRASES = {
    "privacy": (
        "privacy policy",
        "privacy notice",
        "privacy statement",
        "privacy",
        "data protection",
        "datenschutz",
        "confidentialité",
        "confidentialite",
        "privacidad",
        "privacidade",
        "riservatezza",
        "personal data",
        "personal information",
    ),
    "terms": (
        "terms of service",
        "terms of use",
        "terms and conditions",
        "terms & conditions",
        "conditions of use",
        "user agreement",
        "conditions of sale",
        "terms of sale",
        "agreement",
        "terms",
        "conditions",
        "nutzungsbedingungen",
        "agb",
        "conditions générales",
    ),
    "cookies": (
        "cookie policy",
        "cookies policy",
        "cookie notice",
        "cookie statement",
        "trackers",
        "tracking technologies",
        "cookies",
        "cookie",
    ),
    "other-legal": (
        "acceptable use",
        "community guidelines",
        "guidelines",
        "copyright",
        "dmca",
        "imprint",
        "impressum",
        "legal notice",
        "mentions légales",
        "data processing",
        "processor",
        "vulnerability",
        "disclosure",
        "brand",
        "trademark",
        "law enforcement",
        "accessibility",
        "service level",
        "platform to business",
    ),
}
BODY_PHRASES = {
    "privacy": (
        "personal data",
        "personal information",
        "we collect",
        "data controller",
        "your rights",
        "opt out",
        "opt-out",
        "third parties",
        "retention",
        "gdpr",
        "ccpa",
        "data subject",
        "processing",
        "privacy",
    ),
    "terms": (
        "you agree",
        "governing law",
        "liability",
        "warranty",
        "warranties",
        "indemnif",
        "arbitration",
        "terminat",
        "license",
        "intellectual property",
        "dispute",
        "shall",
    ),
    "cookies": (
        "cookie",
        "pixel",
        "local storage",
        "browser settings",
        "tracking",
        "beacon",
        "analytics",
        "advertising",
    ),
    "other-legal": (
        "acceptable",
        "prohibited",
        "trademark",
        "copyright",
        "infring",
        "vulnerab",
        "guideline",
        "processor",
        "sub-processor",
        "registered office",
        "brand",
        "abuse",
    ),
}
URL_WORDS = {
    "privacy": ("privacy", "datenschutz", "confidentialite", "privacidad", "data-protection"),
    "terms": ("terms", "tos", "conditions", "agreement", "legal-terms", "agb", "eula"),
    "cookies": ("cookie", "cookies", "trackers", "tracking"),
    "other-legal": (
        "imprint",
        "impressum",
        "copyright",
        "dmca",
        "guidelines",
        "acceptable-use",
        "aup",
        "dpa",
        "brand",
        "security",
        "accessibility",
        "law-enforcement",
    ),
}
NOT_LEGAL_DENSITY = 3.0  # legal phrases per 1,000 words below which a page names no document
SHORT_PAGE = 400  # words: a page this short with under MIN_PHRASES distinct legal phrases is not
MIN_PHRASES = 2  # a policy, whatever its title says (a blog post on "privacy tips")


@dataclass(frozen=True, slots=True)
class Classification:
    kind: str  # privacy | terms | cookies | other-legal | not-legal
    score: float  # the model's probability of `kind` (or the rule's confidence)
    scores: dict[str, float]
    evidence: list[str]

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "score": round(self.score, 3),
            "scores": {k: round(v, 3) for k, v in self.scores.items()},
            "evidence": self.evidence,
        }


def _has(text: str, phrases: tuple[str, ...]) -> str | None:
    for phrase in phrases:
        if re.search(r"(?<!\w)" + re.escape(phrase), text):
            return phrase
    return None


def features(
    title: str, headings: list[str], text: str, url: str = ""
) -> tuple[dict[str, float], dict[str, str]]:
    """The named features of a page, and for each a phrase saying why it is set."""
    title, text = title.lower(), text.lower()
    heads = [h.lower() for h in headings]
    first = heads[0] if heads else ""
    path = unquote(urlsplit(url).path).lower() if url else ""
    path_words = set(re.split(r"[/_.\-]+", path)) | {path}
    words = max(1, len(text.split()))
    values: dict[str, float] = {}
    why: dict[str, str] = {}
    legal = 0
    for kind in KINDS:
        name = _has(title, NAME_PHRASES[kind])
        values[f"title:{kind}"] = float(name is not None)
        if name:
            why[f"title:{kind}"] = f"the title says {name!r}"
        heading = _has(first, NAME_PHRASES[kind])
        values[f"heading:{kind}"] = float(heading is not None)
        if heading:
            why[f"heading:{kind}"] = f"the first heading says {heading!r}"
        in_url = next(
            (w for w in URL_WORDS[kind] if w in path_words or (len(w) > 5 and w in path)), None
        )
        values[f"url:{kind}"] = float(in_url is not None)
        if in_url:
            why[f"url:{kind}"] = f"the URL says {in_url!r}"
        named = sum(1 for h in heads if _has(h, BODY_PHRASES[kind] + NAME_PHRASES[kind][:3]))
        values[f"headings:{kind}"] = named / len(heads) if heads else 0.0
        if named:
            why[f"headings:{kind}"] = f"{named} of {len(heads)} headings"
        count = sum(text.count(p) for p in BODY_PHRASES[kind])
        legal += count
        density = 1000 * count / words
        values[f"text:{kind}"] = math.log1p(density)
        if count:
            why[f"text:{kind}"] = f"{density:.1f} {kind} phrases per 1,000 words"
    values["length"] = math.log1p(words) / 10
    values["legal"] = math.log1p(1000 * legal / words)
    return values, why


@lru_cache(maxsize=1)
def model() -> dict[str, object]:
    path = Path(__file__).with_name("classifier.json")
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def classify(
    title: str,
    headings: list[str],
    text: str,
    url: str = "",
    weights: dict[str, object] | None = None,
) -> Classification:
    """The document a page holds (see the module's docstring). `weights`: another model than
    the shipped one (cross-validation trains its own)."""
    values, why = features(title, headings, text, url)
    named = any(values[f"{where}:{k}"] for where in ("title", "heading", "url") for k in KINDS)
    words = max(1, len(text.split()))
    density = math.expm1(values["legal"])
    if not named and density < NOT_LEGAL_DENSITY:
        return Classification(
            "not-legal",
            1.0 - density / NOT_LEGAL_DENSITY,
            {},
            [
                f"no title, heading or URL names a document; {density:.1f} legal phrases per "
                f"1,000 words in {words} words"
            ],
        )
    weights = weights or model()
    names: list[str] = list(weights["features"])  # type: ignore[call-overload]
    classes: list[str] = list(weights["classes"])  # type: ignore[call-overload]
    coef: list[list[float]] = weights["coef"]  # type: ignore[assignment]
    intercept: list[float] = weights["intercept"]  # type: ignore[assignment]
    vector = [values.get(name, 0.0) for name in names]
    logits = [
        b + sum(w * x for w, x in zip(row, vector, strict=True))
        for row, b in zip(coef, intercept, strict=True)
    ]
    top = max(logits)
    exps = [math.exp(v - top) for v in logits]
    total = sum(exps)
    scores = {c: e / total for c, e in zip(classes, exps, strict=True)}
    kind = max(scores, key=lambda c: scores[c])
    if kind in ("privacy", "terms", "cookies") and words < SHORT_PAGE:
        distinct = {p for phrases in BODY_PHRASES.values() for p in phrases if p in text.lower()}
        distinct -= {"privacy", "processing", "license", "shall", "cookie", "advertising"}
        if len(distinct) < MIN_PHRASES:
            return Classification(
                "not-legal",
                1.0 - len(distinct) / MIN_PHRASES,
                scores,
                [
                    f"a short page ({words} words) with {len(distinct)} distinct phrases of a "
                    f"{kind} document ({', '.join(sorted(distinct)) or 'none'}), whatever its "
                    "title says"
                ],
            )
    row = coef[classes.index(kind)]
    contributions = sorted(
        ((w * x, name) for w, x, name in zip(row, vector, names, strict=True) if w * x > 0),
        reverse=True,
    )
    evidence = [why[name] for _, name in contributions if name in why][:5]
    # What names the document (title, heading, URL) is evidence whatever its weight.
    for where in ("title", "heading", "url"):
        said = why.get(f"{where}:{kind}")
        if said and said not in evidence:
            evidence.append(said)
    return Classification(kind, scores[kind], scores, evidence)
