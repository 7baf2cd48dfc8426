"""Web pages for the wearer and their physiotherapist, served beside the calendar feed.

Four pages at ``/web/<page token>/``: the routine (``./``), adherence (``adherence``), history
(``history``, and ``history.csv``) and subscribe (``subscribe``). They have their own secret
token (:mod:`wearsync.web.tokens`), separate from the feed's, so either can be revoked alone.

The pages are pure functions from records to HTML and SVG (:mod:`wearsync.web.routine_page`,
:mod:`~wearsync.web.adherence`, :mod:`~wearsync.web.history_page`,
:mod:`~wearsync.web.subscribe`, with the shell and stylesheet in :mod:`~wearsync.web.markup`);
:mod:`wearsync.web.pages` answers requests for them and is mounted on the feed server with
:meth:`wearsync.calendar.feed.FeedServer.mount`. Nothing loads from elsewhere: no scripts, no
fonts, no images; the chart and the QR code are inline SVG and the stylesheet is inline, allowed
by its hash in the Content-Security-Policy.
"""
