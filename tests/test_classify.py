"""The document classifier (`policytrail classify`): made-up pages of each kind, and a page
that is no legal document."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crawler.text.classify import classify
from tests.conftest import run_cli

PRIVACY = """<html><head><title>Privacy Policy | Quillfeather</title></head><body><main>
<h1>Privacy Policy</h1><h2>Information We Collect</h2>
<p>We collect personal information you give us, such as your name and e-mail address, and
personal data about how you use the service. Third parties process it on our behalf.</p>
<h2>Your Rights</h2><p>Under the GDPR you may access, correct or delete your personal data;
California residents have rights under the CCPA. You may opt out of marketing at any time.</p>
<h2>Retention</h2><p>We keep personal information as long as your account is open.</p>
</main></body></html>"""
TERMS = """<html><head><title>Terms of Service | Quillfeather</title></head><body><main>
<h1>Terms of Service</h1><h2>Acceptance</h2><p>By using the service you agree to these terms.
</p><h2>Limitation of Liability</h2><p>The service is provided without warranty; our liability
shall be limited to the fees you paid. You shall indemnify us against claims.</p>
<h2>Governing Law</h2><p>These terms are governed by the law of Delaware; any dispute shall go
to arbitration. We may terminate your account if you breach them.</p></main></body></html>"""
COOKIES = """<html><head><title>Cookie Policy | Quillfeather</title></head><body><main>
<h1>Cookie Policy</h1><p>We use cookies, pixels and local storage for analytics and
advertising. You can refuse cookies in your browser settings.</p><h2>Which cookies we use</h2>
<p>Essential cookies keep you signed in; analytics cookies count visits; advertising cookies
and tracking pixels measure campaigns.</p></main></body></html>"""
BLOG = """<html><head><title>Ten ways to brew better coffee | Quillfeather blog</title></head>
<body><main><h1>Ten ways to brew better coffee</h1><p>Start with fresh beans, grind them just
before you brew, and weigh both coffee and water. Water just off the boil extracts the most
flavour; a pour-over wants a slow, even stream.</p><h2>Storing beans</h2><p>Keep beans in a
dark, airtight jar away from heat, and buy only what you drink in two weeks.</p></main></body>
</html>"""


@pytest.mark.parametrize(
    ("html", "url", "kind"),
    [
        (PRIVACY, "https://quillfeather.example/legal/privacy", "privacy"),
        (TERMS, "https://quillfeather.example/legal/terms", "terms"),
        (COOKIES, "https://quillfeather.example/legal/cookies", "cookies"),
        (BLOG, "https://quillfeather.example/blog/coffee", "not-legal"),
    ],
)
def test_each_kind_of_page(tmp_path: Path, html: str, url: str, kind: str) -> None:
    page = tmp_path / "page.html"
    page.write_text(html)
    code, out = run_cli("classify", str(page), "--url", url, "--json")
    assert code == 0, out
    (result,) = json.loads(out)
    assert result["file"] == str(page) and result["kind"] == kind
    assert 0.5 <= result["score"] <= 1.0 and result["evidence"]


def test_the_evidence_says_why() -> None:
    found = classify(
        "Privacy Policy | Quillfeather",
        ["Privacy Policy"],
        "We collect personal data. " * 40,
        "https://q.example/privacy",
    )
    assert found.kind == "privacy"
    assert "the title says 'privacy policy'" in found.evidence
    assert "the URL says 'privacy'" in found.evidence


def test_a_privacy_notice_in_plain_text(tmp_path: Path) -> None:
    text = tmp_path / "policy.txt"
    text.write_text(
        "# Privacy Notice\n\n"
        + "We collect personal information and share it with third parties. " * 30
    )
    code, out = run_cli("classify", str(text), "--json")
    assert code == 0 and json.loads(out)[0]["kind"] == "privacy"
