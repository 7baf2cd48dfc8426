"""The calendar: iCalendar export (pure) and the feed server (I/O).

Modules, from the bottom up (import them directly; this package imports nothing, so that the
CLI can reach its light parts without loading icalendar or aiohttp):

- :mod:`~wearsync.calendar.ports`: the interfaces the calendar needs (``EventLedger``,
  ``Settings``, ``FeedSource``) and the records they pass;
- :mod:`~wearsync.calendar.ledger`: :func:`~wearsync.calendar.ledger.revise`, the rule that
  bumps SEQUENCE and LAST-MODIFIED (the entries live in the store: ``Store.calendar_ledger()``);
- :mod:`~wearsync.calendar.uids`: event UIDs from a safe alphabet (frozen);
- :mod:`~wearsync.calendar.tokens`: the feed's secret token and the schedule's first day;
- :mod:`~wearsync.calendar.schedule`: the routine as recurring events, from the occurrence
  generator (pure);
- :mod:`~wearsync.calendar.history`: sessions as past events, windowed (pure);
- :mod:`~wearsync.calendar.marks`: done and missed occurrences as overrides of their recurring
  event (pure; the matching rule is ``wearsync.routine.adherence``'s);
- :mod:`~wearsync.calendar.timezones`: VTIMEZONE with yearly rules (pure);
- :mod:`~wearsync.calendar.icstext`: RFC 5545 text for the history's fast path (pure);
- :mod:`~wearsync.calendar.export`: ``build_calendar``, the whole calendar as bytes;
- :mod:`~wearsync.calendar.sources`: feed sources (in memory; a routine file plus the store);
- :mod:`~wearsync.calendar.httputil`, :mod:`~wearsync.calendar.connections`,
  :mod:`~wearsync.calendar.feed`: the HTTP server, ``FeedServer`` (aiohttp), and its ceiling on
  connections;
- :mod:`~wearsync.calendar.qr`: the subscribe link as a QR code (segno);
- :mod:`~wearsync.calendar.publish`: into a CalDAV calendar (caldav), or as static files.
"""
