"""The subscribe page: the calendar's webcal:// and http:// links, a QR code of the webcal link,
and how to add the feed in the common calendar apps."""

from __future__ import annotations

from wearsync.calendar.httputil import webcal_url
from wearsync.calendar.qr import svg_qr
from wearsync.web.data import PageData
from wearsync.web.markup import esc, page

CLIENTS = (
    (
        "Google Calendar",
        "on a computer, Other calendars, +, From URL, paste the http link; the phone app "
        "shows it once added (Google refreshes it every few hours).",
    ),
    (
        "Apple Calendar",
        "on iPhone or iPad, open the webcal link or scan the code; on a Mac, File, New "
        "Calendar Subscription, paste the webcal link.",
    ),
    (
        "Thunderbird",
        "Calendar, New Calendar, On the Network, paste the http link as the location.",
    ),
    (
        "Outlook",
        "Add calendar, Subscribe from web (outlook.com) or From Internet (desktop), "
        "paste the http link.",
    ),
)


def qr_svg(text: str) -> str:
    """``text`` as an inline ``<svg>`` QR code (the feed page's), named for screen readers."""
    return svg_qr(text).replace(
        "<svg ", '<svg role="img" aria-label="QR code of the webcal link" ', 1
    )


def render_subscribe(data: PageData, qr: str | None = None) -> bytes:
    """The subscribe page.

    Args:
        data: the page data (its ``feed_url`` is the calendar's http link).
        qr: the QR code's SVG if already drawn for this link (it is drawn once per link).
    """
    http = data.feed_url
    webcal = webcal_url(http)
    clients = "".join(f"<li><strong>{esc(name)}</strong>: {esc(how)}</li>" for name, how in CLIENTS)
    body = (
        "<p>The schedule and the sessions as a calendar that updates itself. Anyone with these "
        "links can read it; <code>wearsync feed rotate</code> replaces them.</p>"
        '<h2 id="links">Links</h2>'
        f'<p><a href="{esc(webcal)}">Subscribe with your calendar app (webcal)</a></p>'
        f"<p>Or add this address in the app:<br><code>{esc(http)}</code></p>"
        '<h2 id="phone">On a phone</h2><p>Scan this code with the camera:</p>'
        f'<div class="qr">{qr if qr is not None else qr_svg(webcal)}</div>'
        f'<h2 id="apps">In your calendar app</h2><ul class="clients">{clients}</ul>'
    )
    return page(
        title="Subscribe",
        current="subscribe",
        heading="Subscribe to the calendar",
        body=body,
        site=data.routine.title,
    )
