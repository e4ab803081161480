"""Train the document classifier's weights (crawler/text/classifier.json) on the real pages.

    .venv/bin/pip install -e '.[bench]' && .venv/bin/python scripts/train_classifier.py

A multinomial logistic regression (scikit-learn) over the readable features of
crawler.text.classify.features: what the title, first heading and URL say, how many headings
and how much of the text speak of each kind of document, and the length. The weights are
written as JSON (features, classes, coefficients, intercepts, and what they were trained on),
so policytrail reads them without scikit-learn. scripts/bench_discover.py measures the same
model by service.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from crawler.text.classify import features  # noqa: E402
from scripts.discovery_corpus import Example, examples  # noqa: E402

C = 1.0  # inverse regularisation: the features are few and on similar scales


def fit(train: list[Example]) -> dict[str, object]:
    """Weights for `classify(weights=...)`, trained on these examples."""
    from sklearn.linear_model import LogisticRegression

    rows = [features(e.title, e.headings, e.text, e.url)[0] for e in train]
    names = sorted(rows[0])
    x = [[row[n] for n in names] for row in rows]
    y = [e.kind for e in train]
    model = LogisticRegression(C=C, max_iter=5000, class_weight="balanced")
    model.fit(x, y)
    return {
        "features": names,
        "classes": [str(c) for c in model.classes_],
        "coef": [[round(float(w), 6) for w in row] for row in model.coef_],
        "intercept": [round(float(b), 6) for b in model.intercept_],
    }


def main() -> None:
    data = examples()
    weights = fit(data)
    weights["trained_on"] = {
        "examples": len(data),
        "services": len({e.group for e in data}),
        "by_source_and_kind": {
            f"{k[0]}:{k[1]}": v for k, v in Counter((e.source, e.kind) for e in data).items()
        },
        "script": "scripts/train_classifier.py",
    }
    out = ROOT / "crawler" / "text" / "classifier.json"
    out.write_text(json.dumps(weights, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {out} ({len(data)} examples, {len(weights['features'])} features)")


if __name__ == "__main__":
    main()
