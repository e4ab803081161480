"""The link finder: which of a page's links leads to its privacy policy (or terms)."""

from __future__ import annotations

from crawler.text.links import find_links

HOME = """<html><body><nav><a href="/products">Products</a>
<a href="javascript:openPrivacy()">Privacy</a></nav>
<main><p>We joined the <a href="https://www.privacyshield.gov/">Privacy Shield</a> framework.
<a href="/blog/privacy-tips">Five privacy tips for your clinic</a></p></main>
<footer><a href="/web/20150301000000/http://www.larkfield.example/legal/privacy">Privacy</a>
<a href="/settings#privacy">Your Privacy Choices</a> <a href="/ccpa">Do Not Sell My Info</a>
<a href="/legal/terms">Terms of Use</a> <a href="/legal/cookies">Cookie Policy</a>
<button>Cookie settings</button></footer></body></html>"""
GERMAN = """<html><body><div class="footer-links"><a href="impressum.html">Impressum</a>
<a href="datenschutz.html">Datenschutzerklärung</a></div></body></html>"""


def test_the_footer_link_wins_and_decoys_are_refused() -> None:
    found = find_links(HOME, "http://www.larkfield.example/", "privacy")
    assert found[0].url == "http://www.larkfield.example/legal/privacy"  # mapped from Wayback
    assert found[0].confident and "in the footer" in found[0].evidence
    urls = {c.url for c in found}
    assert "https://www.privacyshield.gov/" not in urls
    assert not any("settings" in u or "ccpa" in u for u in urls)
    assert not any(u.startswith("javascript") for u in urls)
    # A blog post about privacy is a weak candidate at best, never the first.
    assert all(not c.confident for c in found if "blog" in c.url)


def test_terms_and_another_language() -> None:
    terms = find_links(HOME, "http://www.larkfield.example/", "terms")
    assert terms[0].url == "http://www.larkfield.example/legal/terms"
    german = find_links(GERMAN, "https://www.larkfield.de/index.html", "privacy")
    assert german[0].url == "https://www.larkfield.de/datenschutz.html" and german[0].confident
