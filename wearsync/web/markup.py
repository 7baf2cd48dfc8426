"""The page shell every page shares: the stylesheet, navigation, headers and small helpers.

Every text that reaches HTML goes through :func:`esc` (``html.escape``, quotes too). The
stylesheet is inline and allowed by its SHA-256 in the Content-Security-Policy, so a page is one
request and nothing else may load or run: no scripts, no images, no frames, no forms.
"""

from __future__ import annotations

import base64
import hashlib
import html
from dataclasses import dataclass

from wearsync.calendar.httputil import Answer

STYLE = """
:root{color-scheme:light dark;--fg:#1a1a1a;--bg:#fff;--muted:#4a4a4a;--line:#c8c8c8;
--accent:#1d5fa8;--planned:#c9d8ec;--card:#f4f6f9;--ok:#1e6b34;--warn:#8a4b00;--bad:#a0182b}
@media (prefers-color-scheme:dark){:root{--fg:#ececec;--bg:#121212;--muted:#c2c2c2;
--line:#555;--accent:#8dbbff;--planned:#34475f;--card:#1e1e1e;--ok:#7fd894;--warn:#ffc46b;
--bad:#ff8e9b}}
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
color:var(--fg);background:var(--bg)}
.skip{position:absolute;left:-999px}.skip:focus{left:8px;top:8px;background:var(--bg);padding:4px}
header{border-bottom:1px solid var(--line);padding:8px 16px}
header p{margin:0;font-weight:600}
nav ul{list-style:none;margin:4px 0 0;padding:0;display:flex;flex-wrap:wrap;gap:0 14px}
nav a{display:inline-block;padding:6px 0;color:var(--accent)}
nav a[aria-current=page]{color:var(--fg);font-weight:700;text-decoration:none}
main{max-width:60rem;margin:0 auto;padding:8px 16px 32px}
h1{font-size:1.6rem;margin:16px 0 8px}h2{font-size:1.25rem;margin:24px 0 8px}
h3{font-size:1.05rem;margin:16px 0 4px}
a{color:var(--accent)}
.muted{color:var(--muted)}
.card{background:var(--card);border:1px solid var(--line);border-radius:6px;
padding:8px 12px;margin:8px 0}
.card h3{margin-top:4px}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:4px 0}
dl.facts dt{color:var(--muted)}dl.facts dd{margin:0}
.table{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:.95rem}
caption{text-align:left;font-weight:600;padding:4px 0}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid var(--line);vertical-align:top}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.completed{color:var(--ok)}.partial{color:var(--warn)}
.aborted,.interrupted{color:var(--bad)}
.chart{width:100%;max-width:44rem;height:auto;display:block}
.chart text{fill:var(--fg);font-size:13px}
.chart .axis{stroke:var(--line)}
.chart .planned,.key .planned{fill:var(--planned);stroke:var(--accent)}
.chart .done,.key .done{fill:var(--accent)}
.key{display:flex;gap:16px;margin:4px 0;padding:0;list-style:none}
.key svg{vertical-align:middle}
.qr{background:#fff;padding:8px;display:inline-block;border-radius:4px}
.qr svg{display:block}
.qr path{stroke:#000}
code{overflow-wrap:anywhere;font-size:.9rem}
td time{white-space:nowrap}
ul.clients li{margin:4px 0}
summary{cursor:pointer;color:var(--accent);padding:4px 0}
@media (max-width:40rem){body{font-size:17px}h1{font-size:1.4rem}th,td{padding:4px}
table.stack thead{position:absolute;left:-9999px}
table.stack tr{display:block;border-bottom:1px solid var(--line);padding:6px 0}
table.stack td{display:flex;gap:8px;border:0;padding:1px 0;text-align:left}
table.stack td::before{content:attr(data-label);flex:0 0 8.5em;color:var(--muted)}}
""".strip()

STYLE_HASH = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()

CSP = (
    "default-src 'none'; "
    f"style-src 'sha256-{STYLE_HASH}'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
"""Nothing but the inline stylesheet: no scripts, images, fonts, frames, forms or fetches."""

_SECURITY = (
    ("Cache-Control", "no-store"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
)

HTML_HEADERS = (
    ("Content-Type", "text/html; charset=utf-8"),
    ("Content-Security-Policy", CSP),
    *_SECURITY,
)


@dataclass(frozen=True, slots=True)
class NavItem:
    """One page in the navigation: its path (relative to the pages' root) and its name."""

    href: str
    label: str


NAV = (
    NavItem("./", "Routine"),
    NavItem("adherence", "Adherence"),
    NavItem("history", "History"),
    NavItem("subscribe", "Subscribe"),
)


def esc(text: object) -> str:
    """``text`` for HTML or SVG text and attribute values (``<>&"'`` escaped)."""
    return html.escape(str(text), quote=True)


def page(*, title: str, current: str, heading: str, body: str, site: str) -> bytes:
    """A whole HTML document.

    Args:
        title: the document's title (escaped here).
        current: the ``href`` of the current page in :data:`NAV`.
        heading: the page's ``h1`` (escaped here).
        body: the page's content, already HTML.
        site: the routine's title, shown above the navigation (escaped here).
    """
    items = "".join(
        f'<li><a href="{esc(item.href)}"'
        + (' aria-current="page"' if item.href == current else "")
        + f">{esc(item.label)}</a></li>"
        for item in NAV
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{esc(title)} · {esc(site)}</title><style>{STYLE}</style></head><body>"
        '<a class="skip" href="#main">Skip to content</a>'
        f'<header><p>{esc(site)}</p><nav aria-label="Pages"><ul>{items}</ul></nav></header>'
        f'<main id="main"><h1>{esc(heading)}</h1>{body}</main></body></html>'
    ).encode()


def html_answer(body: bytes) -> Answer:
    """A 200 with the pages' headers."""
    return Answer(200, HTML_HEADERS, body)


def csv_answer(body: bytes, filename: str) -> Answer:
    """A 200 carrying a CSV file to download as ``filename`` (a safe name: ``[a-z0-9.-]``)."""
    return Answer(
        200,
        (
            ("Content-Type", "text/csv; charset=utf-8"),
            ("Content-Disposition", f'attachment; filename="{filename}"'),
            ("Content-Security-Policy", "default-src 'none'"),
            *_SECURITY,
        ),
        body,
    )


def duration_text(ms: int) -> str:
    """``754000`` -> ``12 min 34 s``; under a minute ``45 s``."""
    seconds = round(ms / 1000)
    minutes, rest = divmod(seconds, 60)
    if minutes and rest:
        return f"{minutes} min {rest} s"
    return f"{minutes} min" if minutes else f"{rest} s"
