"""Commands on texts: diff (two versions of a policy), diff-files, extract and classify (saved
pages)."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

import click

from crawler.cli.base import FORMATS, Context, _config_and_db, _policy_id, _resolve_version, cli
from crawler.config import KINDS
from crawler.errors import CrawlerError
from crawler.text.diff import ignore_patterns

log = logging.getLogger("policytrail")


def _print_diff(
    result: Any, fmt: str, title: str, old: dict[str, Any], new: dict[str, Any]
) -> None:
    from crawler.text.report import (
        KIND_MARKS,
        _folded,
        diff_to_html,
        diff_to_json,
        diff_to_markdown,
    )

    if fmt == "json":
        click.echo(diff_to_json(result, old, new))
        return
    if fmt == "markdown":
        click.echo(diff_to_markdown(result, title), nl=False)
        return
    if fmt == "html":
        click.echo(diff_to_html(result, title), nl=False)
        return
    from rich.console import Console
    from rich.text import Text

    console = Console(highlight=False, soft_wrap=True)
    # Colour tells inserted from deleted words in a terminal; anywhere else (a pipe, a file,
    # NO_COLOR), word markers do.
    markers = not console.is_terminal or console.no_color
    console.print(Text(title, style="bold"))
    console.print(Text(result.summary, style="italic"))
    for item in _folded(result.changes):
        if isinstance(item, int):
            console.print(
                Text(f"  … {item} unchanged section{'s' if item > 1 else ''}", style="dim")
            )
            continue
        heading = item.new_heading if item.new_heading is not None else item.old_heading
        if item.kind == "renamed":
            heading = f"{item.old_heading} → {item.new_heading}"
        console.print()
        console.print(
            Text(
                f"{KIND_MARKS.get(item.kind, '')} {heading or '(preamble)'}  "
                f"[{item.kind}, {item.significance}, +{item.words_added} "
                f"-{item.words_removed}]",
                style="bold cyan",
            )
        )
        if item.kind == "moved" and not item.modified:
            continue
        line = Text("  ")
        for op, part in item.redline:
            if not part:
                continue
            if op == "equal" and len(part) > 300:
                part = part[:140] + " … " + part[-140:]
            if markers and op != "equal":
                # As `git diff --word-diff` writes them: the meaning survives a pipe.
                part = f"[-{part}-]" if op == "delete" else f"{{+{part}+}}"
            style = "" if markers else {"insert": "bold green", "delete": "red strike"}.get(op, "")
            line.append(part + " ", style=style)
        console.print(line)


@cli.command()
@click.argument("name")
@click.argument("a", required=False)
@click.argument("b", required=False)
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (the same as --format json).")
@click.pass_obj
def diff(obj: Context, name: str, a: str | None, b: str | None, fmt: str, as_json: bool) -> None:
    """What changed in policy NAME between versions A and B, section by section.

    A and B are version ids (2021-07-05-8f5090), numbers or dates (YYYY, YYYY-MM, YYYY-MM-DD:
    the version in force at the end of that day, month or year); by default the last two
    versions. In a terminal, inserted words are green and deleted ones struck through;
    piped or redirected, they are marked [-deleted-] and {+inserted+}."""
    if as_json:
        fmt = "json"
    from crawler.text.diff import diff_texts
    from db import store

    config, db = _config_and_db(obj)
    pid = _policy_id(db, config, name)
    if a is None:
        changes = [c for c in store.changes(db, pid) if c["kind"] == "change"]
        if not changes:
            raise click.ClickException(f"{name} has only one version so far: nothing to compare")
        versions = store.history(db, pid)
        old = next(v for v in versions if v["id"] == changes[0]["from_version_id"])
        new = next(v for v in versions if v["id"] == changes[0]["to_version_id"])
    else:
        old = _resolve_version(db, pid, a, "A")
        new = _resolve_version(db, pid, b, "B") if b else store.history(db, pid)[-1]
    ignore = next(
        (ignore_patterns(config.ignore, p.ignore) for p in config.policies if p.name == name),
        ignore_patterns(config.ignore),
    )
    result = diff_texts(
        store.version_text(db, old["id"]), store.version_text(db, new["id"]), ignore
    )
    title = (
        f"{name}: version {old['uid']} (#{old['number']}, first seen {old['first_seen'][:10]})"
        f" → version {new['uid']} (#{new['number']}, first seen {new['first_seen'][:10]})"
    )
    fields = ("uid", "number", "first_seen", "last_seen", "text_sha256")
    _print_diff(result, fmt, title, {k: old[k] for k in fields}, {k: new[k] for k in fields})


def _read_text(path: Path) -> str:
    from crawler.text import extract_any
    from crawler.text.pdf import is_pdf
    from crawler.text.render import render_text

    body = path.read_bytes()
    head = body[:2048].lstrip().lower()
    if (
        is_pdf(body)
        or path.suffix.lower() in (".html", ".htm", ".xhtml")
        or head.startswith((b"<!doctype", b"<html"))
    ):
        return render_text(extract_any(body))
    return body.decode("utf-8", errors="replace")


@cli.command("diff-files")
@click.argument("old", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("new", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
def diff_files(old: Path, new: Path, fmt: str) -> None:
    """Section-level diff of any two texts, HTML pages or PDFs."""
    from crawler.text.diff import diff_texts

    try:
        old_text, new_text = _read_text(old), _read_text(new)
    except CrawlerError as exc:
        raise click.ClickException(str(exc)) from exc
    result = diff_texts(old_text, new_text)
    _print_diff(result, fmt, f"{old} → {new}", {"file": str(old)}, {"file": str(new)})


@cli.command()
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--url",
    "original",
    default="",
    help="The page's original URL (for links and the provenance line).",
)
@click.option("--timestamp", help="The 14-digit Wayback timestamp of the snapshot.")
@click.option("--kind", type=click.Choice(KINDS), default="privacy", show_default=True)
@click.option("--select", help="CSS selector of the policy's content.")
@click.option("--remove", help="CSS selector of parts to drop.")
@click.option(
    "--out-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write each X.html as DIR/X.md instead of printing.",
)
def extract(
    files: tuple[Path, ...],
    original: str,
    timestamp: str | None,
    kind: str,
    select: str | None,
    remove: str | None,
    out_dir: Path | None,
) -> None:
    """Turn saved HTML pages into clean policy text (markdown with a provenance line)."""
    from crawler.text import document_hints, extract_any
    from crawler.text.render import archive_provenance, render_text, render_with_provenance

    if timestamp and not re.fullmatch(r"\d{4,14}", timestamp):
        raise click.BadParameter(
            "write the 14-digit Wayback timestamp, e.g. 20180905001402", param_hint="--timestamp"
        )
    from crawler.config.checks import valid_selector

    for option, value in (("--select", select), ("--remove", remove)):
        if value is not None and not valid_selector(value):
            raise click.BadParameter(
                f"{value!r} is not a CSS selector lexbor can parse", param_hint=option
            )
    if out_dir:
        out_dir.mkdir(parents=True, exist_ok=True)
    for path in files:
        try:
            document = extract_any(
                path.read_bytes(),
                base_url=original,
                select=select,
                remove=remove,
                document=document_hints(kind),
            )
        except CrawlerError as exc:
            raise click.ClickException(f"{path}: {exc}") from exc
        text = render_text(document)
        if original and timestamp:
            text = render_with_provenance(
                archive_provenance(
                    original, kind, timestamp.ljust(14, "0"), "https://web.archive.org"
                ),
                text,
            )
        if out_dir:
            (out_dir / (path.stem + ".md")).write_text(text, encoding="utf-8")
        else:
            click.echo(text, nl=False)


@cli.command()
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--url", default="", help="The page's URL (its path words are evidence too).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def classify(files: tuple[Path, ...], url: str, as_json: bool) -> None:
    """Which document each page is (HTML, PDF or text): privacy, terms, cookies, other-legal or
    not-legal, with a score and the evidence (title, headings, key phrases, URL words)."""
    from crawler.text import extract_any, render_text
    from crawler.text.classify import classify as classify_page
    from crawler.text.pdf import is_pdf

    results = []
    for path in files:
        body = path.read_bytes()
        head = body[:2048].lstrip().lower()
        if (
            is_pdf(body)
            or head.startswith((b"<!doctype", b"<html", b"<"))
            or path.suffix
            in (
                ".html",
                ".htm",
            )
        ):
            try:
                document = extract_any(body, base_url=url)
            except CrawlerError as exc:
                raise click.ClickException(f"{path}: {exc}") from exc
            title = document.title
            headings = [b.text for b in document.blocks if b.kind == "heading"]
            text = render_text(document)
        else:
            text = body.decode("utf-8", errors="replace")
            headings = [m.group(1) for m in re.finditer(r"^#{1,6}\s+(.+)$", text, re.M)]
            title = ""
        found = classify_page(title, headings, text, url)
        results.append({"file": str(path), **found.to_dict()})
    if as_json:
        click.echo(json.dumps(results, indent=2, ensure_ascii=False))
        return
    for r in results:
        evidence = "; ".join(str(e) for e in r["evidence"])  # type: ignore[attr-defined]
        click.echo(f"{r['file']}: {r['kind']} ({r['score']:.2f}): {evidence}")
