"""The web client's section of docs/BENCHMARKS.md (bench/page.py)."""

from __future__ import annotations

from typing import Any

PAGE_VS_CLI_TARGET = 0.9


def page_section(results: dict[str, Any]) -> list[str]:
    found = results.get("page")
    if not found:
        return []
    ratio = found["page_vs_cli"]
    verdict = "met" if ratio >= PAGE_VS_CLI_TARGET else "**missed**"
    seconds = ", ".join(f"{s:.2f}" for s in found["page_seconds"])
    cli = ", ".join(f"{s:.2f}" for s in found["cli_seconds"])
    lines = [
        "",
        "## The web client: bytes per page, time to interactive, upload vs the CLI",
        "",
        "`python -m bench --stages page` (bench/page.py): the production-shaped stack (nginx → "
        "gunicorn → API, S3, Postgres, Redis) on this machine, Debian's chromium (headless, "
        "Playwright) on the same machine, a cold cache per page.",
        "",
        f"- **Upload of the {found['clip_bytes'] / 1e6:.1f} MB clip**, page (tus-js-client, one "
        f"PATCH per file; click → done) against the CLI (`reelforge upload`, the whole command), "
        f"alternated, {found['rounds']} each: page {found['page_mb_s']:.1f} MB/s (median of "
        f"{seconds} s), CLI {found['cli_mb_s']:.1f} MB/s ({cli} s) — **{ratio:.2f}** of the "
        f"CLI (target ≥ {PAGE_VS_CLI_TARGET}: {verdict}). The CLI's time includes its Python "
        f"start-up ({found['cli_startup_s']:.2f} s, `reelforge --help`); without it the page "
        f"makes **{found['page_vs_cli_transfer']:.2f}** of the CLI's transfer rate.",
        "",
        "| Page | JS + CSS transferred (gzip) | Files | Time to interactive |",
        "|---|---|---|---|",
    ]
    for page in found["pages"]:
        lines.append(
            f"| `{page['route']}` | {page['script_style_bytes'] / 1024:.1f} KiB | {page['files']} "
            f"| {page['ready_ms']:.0f} ms |"
        )
    lines += [
        "",
        "Time to interactive: navigation start → the page's `data-ready` (its session read, its "
        "view drawn and its data loaded). hls.js (≈ 160 KiB gzip) is loaded by the watch page "
        "only, tus-js-client by the upload page only.",
    ]
    return lines
