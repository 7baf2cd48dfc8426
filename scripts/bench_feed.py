"""Benchmark the calendar feed: build time and size with five years of history, and requests per
second (200 and 304) of the feed server beside nginx serving the same bytes.

    uv run python scripts/bench_feed.py [--seconds 3] [--connections 32] [--sessions 5000]
    uv run python scripts/bench_feed.py --build-only    # size and build time, no servers

Needs nginx (Debian: ``apt-get install -y nginx``). The load comes from wrk when it is installed
(``apt-get install -y wrk``), else from a Python generator (asyncio streams, keep-alive), which
is slower than either server and then measures itself as much as them. Each server runs as one
process (nginx with one worker) pinned to the same CPU, the load generator on another, so both
get the same hardware. Every run is bounded in time and in requests.

The nginx figures are for information: the feed is served by aiohttp alone, since calendars poll
every few hours. Targets: the five-year feed built in under 0.5 s; the default feed under 256 KB.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from wearsync.calendar.export import ExportOptions, build_calendar
from wearsync.calendar.history import HistoryMode, HistoryRenderer
from wearsync.records import ExerciseOutcome, ExerciseStatus, SessionRecord, SessionStatus
from wearsync.routine import Routine, load_routine
from wearsync.store import Store

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
FIRST_DAY = date(2025, 2, 14)
LIMIT = 256 * 1024
MAX_REQUESTS = 500_000  # per run, for the Python generator (wrk is bounded by time)


def five_years(routine: Routine, count: int) -> list[SessionRecord]:
    """``count`` sessions over the five years before NOW, mostly completed."""
    rng = random.Random(2026)
    step = timedelta(days=5 * 365) / count
    statuses = [SessionStatus.COMPLETED] * 8 + [SessionStatus.PARTIAL, SessionStatus.ABORTED]
    out = []
    for i in range(count):
        at = (NOW - timedelta(days=5 * 365) + step * i).replace(microsecond=0)
        status = rng.choice(statuses)
        outcomes = tuple(
            ExerciseOutcome(
                index=n,
                exercise_id=ex.id,
                name=ex.name,
                status=ExerciseStatus.SKIPPED
                if status is SessionStatus.PARTIAL and n == 1
                else ExerciseStatus.DONE,
                duration_ms=rng.randint(40_000, 200_000),
            )
            for n, ex in enumerate(routine.exercises)
        )
        out.append(
            SessionRecord(
                key=f"C0:FF:EE:00:00:01/{i // 400}/{i}",
                device="C0:FF:EE:00:00:01",
                routine=routine.name,
                program_hash="ab" * 32,
                started_at=at,
                ended_at=at + timedelta(minutes=rng.randint(8, 14)),
                status=status,
                exercises=outcomes,
                updated_at=at + timedelta(minutes=15),
            )
        )
    return out


def timed(fn: Callable[[], object], runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def build_figures(routine: Routine, sessions: list[SessionRecord], work: Path) -> None:
    """Print build times (cold: new ledger and renderer; warm: one new session) and sizes."""
    print(f"five years of history: {len(sessions)} sessions")
    for mode in (HistoryMode.RECENT, HistoryMode.ALL):
        size, cold_s, warm_s = measure(routine, sessions, work, mode)
        label = "default feed (recent)" if mode is HistoryMode.RECENT else "full (?history=all)"
        print(
            f"  {label:<24} {size / 1024:8.1f} KB   build cold {cold_s * 1000:5.0f} ms   "
            f"rebuild after a new session {warm_s * 1000:4.0f} ms"
        )
        if mode is HistoryMode.RECENT:
            print(f"  target: default feed < 256 KB: {'ok' if size < LIMIT else 'OVER'}")
        else:
            verdict = "ok" if cold_s < 0.5 else "OVER"
            print(f"  target: five-year history built < 0.5 s: {verdict} ({cold_s:.3f} s cold)")
    naive = naive_icalendar(sessions)
    print(f"  for comparison, {len(sessions)} events through icalendar's objects: {naive:.3f} s")


def measure(
    routine: Routine, sessions: list[SessionRecord], work: Path, mode: HistoryMode
) -> tuple[int, float, float]:
    """(size, cold build s, rebuild after one new session s), medians of five runs."""
    limit = ExportOptions().max_bytes if mode is HistoryMode.RECENT else None
    options = ExportOptions(history=mode, max_bytes=limit)
    runs = iter(range(1_000))

    def cold() -> bytes:
        store = Store.open(work / f"cold-{mode}-{next(runs)}.db")
        ledger = store.calendar_ledger()
        renderer = HistoryRenderer()
        body = build_calendar(
            routine,
            sessions,
            start=FIRST_DAY,
            ledger=ledger,
            now=NOW,
            options=options,
            renderer=renderer,
        ).body
        store.close()
        return body

    size = len(cold())
    cold_s = timed(cold)
    ledger = Store.open(work / f"warm-{mode}.db").calendar_ledger()
    renderer = HistoryRenderer()
    grown = list(sessions)

    def warm() -> None:
        build_calendar(
            routine,
            grown,
            start=FIRST_DAY,
            ledger=ledger,
            now=NOW,
            options=options,
            renderer=renderer,
        )

    warm()
    times = []
    for n in range(5):
        last = grown[-1]
        later = last.started_at + timedelta(hours=6)
        grown.append(last.model_copy(update={"key": f"{last.key}+{n}", "started_at": later}))
        times.append(timed(warm, runs=1))
    return size, cold_s, statistics.median(times)


def naive_icalendar(sessions: list[SessionRecord]) -> float:
    from icalendar import Calendar, Event

    def run() -> None:
        cal = Calendar.new(prodid="-//bench//EN")
        for s in sessions:
            cal.add_component(
                Event.new(
                    uid=s.key,
                    summary=f"Session: {s.status}",
                    start=s.started_at,
                    end=s.ended_at,
                    description="\n".join(f"{e.name}: {e.status}" for e in s.exercises),
                    stamp=s.updated_at,
                    sequence=0,
                    last_modified=s.updated_at,
                )
            )
        cal.to_ical()

    return timed(run, runs=1)


# --- the servers ------------------------------------------------------------------------------


def pin(cpu: int | None) -> Callable[[], None] | None:
    if cpu is None:
        return None
    return lambda: os.sched_setaffinity(0, {cpu})


def serve_feed(db: str, sessions: int, cpu: int | None, ready: mp.Queue[tuple[int, str]]) -> None:
    """The child process: a FeedServer on 127.0.0.1, until SIGTERM."""
    from wearsync.calendar.feed import FeedServer
    from wearsync.calendar.sources import StaticFeedSource
    from wearsync.calendar.tokens import FeedTokens

    if cpu is not None:
        os.sched_setaffinity(0, {cpu})
    routine = load_routine("foot-care")
    store = Store.open(Path(db))
    server = FeedServer(
        StaticFeedSource(routine, five_years(routine, sessions), start=FIRST_DAY),
        ledger=store.calendar_ledger(),
        tokens=FeedTokens(store),
        port=0,
        clock=lambda: NOW,
    )

    async def main() -> None:
        await server.start()
        ready.put((server.port, server.feed_url()))
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await stop.wait()
        await server.stop()

    asyncio.run(main())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_nginx(work: Path, body: bytes, cpu: int | None) -> tuple[subprocess.Popen[bytes], str]:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        sys.exit("nginx is not installed: apt-get update && apt-get install -y nginx")
    root = work / "www"
    root.mkdir()
    (root / "feed.ics").write_bytes(body)
    for p in (work, root, root / "feed.ics"):
        p.chmod(0o755)  # nginx's worker drops root privileges and must read the file
    port = free_port()
    conf = work / "nginx.conf"
    temp = {k: work / f"{k}_temp" for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")}
    conf.write_text(
        f"daemon off; worker_processes 1; pid {work}/nginx.pid; error_log {work}/error.log;\n"
        "events { worker_connections 4096; }\n"
        "http {\n  access_log off; keepalive_requests 1000000;\n"
        + "".join(f"  {k}_temp_path {v};\n" for k, v in temp.items())
        + "  types { text/calendar ics; } charset utf-8; charset_types text/calendar;\n"
        f"  server {{ listen 127.0.0.1:{port}; root {root}; etag on;\n"
        '    add_header Cache-Control "private, no-cache"; }\n}\n'
    )
    process = subprocess.Popen([nginx, "-c", str(conf), "-p", str(work)], preexec_fn=pin(cpu))
    url = f"http://127.0.0.1:{port}/feed.ics"
    for _ in range(100):
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return process, url
        except OSError:
            time.sleep(0.05)
    process.terminate()
    sys.exit(f"nginx did not start; see {work}/error.log")


# --- load -------------------------------------------------------------------------------------


def probe(url: str, etag: str | None = None) -> tuple[int, str, bytes]:
    request = urllib.request.Request(url, headers={"If-None-Match": etag} if etag else {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.headers["ETag"], response.read()
    except urllib.error.HTTPError as exc:  # urllib reports 304 as an error
        return exc.code, exc.headers["ETag"], b""


def wrk_rate(
    url: str, etag: str | None, seconds: float, connections: int, cpu: int | None
) -> float:
    args = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "5s"]
    if etag:
        args += ["-H", f"If-None-Match: {etag}"]
    out = subprocess.run(
        [*args, url], capture_output=True, text=True, check=True, preexec_fn=pin(cpu)
    ).stdout
    if "Non-2xx or 3xx" in out or "Socket errors" in out:
        print("    wrk reported errors:", " ".join(out.split()[-12:]))
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    return float(match.group(1)) if match else 0.0


async def python_rate(url: str, etag: str | None, seconds: float, connections: int) -> float:
    host_port, path = url.removeprefix("http://").split("/", 1)
    host, port = host_port.split(":")
    extra = f"If-None-Match: {etag}\r\n" if etag else ""
    request = f"GET /{path} HTTP/1.1\r\nHost: {host_port}\r\n{extra}\r\n".encode()
    deadline = time.perf_counter() + seconds
    done = 0

    async def client() -> None:
        nonlocal done
        reader, writer = await asyncio.open_connection(host, int(port))
        while time.perf_counter() < deadline and done < MAX_REQUESTS:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = re.search(rb"(?i)content-length:\s*(\d+)", head)
            if length:
                await reader.readexactly(int(length.group(1)))
            done += 1
        writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(connections)))
    return done / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="length of each load run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--sessions", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per server")
    parser.add_argument("--python-load", action="store_true", help="do not use wrk")
    parser.add_argument(
        "--build-only", action="store_true", help="only the build time and size (no servers)"
    )
    opts = parser.parse_args()
    cpus = sorted(os.sched_getaffinity(0))
    server_cpu, load_cpu = (cpus[0], cpus[1]) if len(cpus) > 1 else (None, None)
    routine = load_routine("foot-care")
    sessions = five_years(routine, opts.sessions)
    with tempfile.TemporaryDirectory(prefix="bench-feed-") as tmp:
        work = Path(tmp)
        build_figures(routine, sessions, work)
        if opts.build_only:
            return
        ready: mp.Queue[tuple[int, str]] = mp.get_context("spawn").Queue()
        child = mp.get_context("spawn").Process(
            target=serve_feed, args=(str(work / "feed.db"), opts.sessions, server_cpu, ready)
        )
        child.start()
        nginx: subprocess.Popen[bytes] | None = None
        try:
            _, feed_url = ready.get(timeout=60)
            status, feed_etag, body = probe(feed_url)
            assert status == 200, status
            nginx, nginx_url = start_nginx(work, body, server_cpu)
            _, nginx_etag, nginx_body = probe(nginx_url)
            assert nginx_body == body
            assert probe(feed_url, feed_etag)[0] == probe(nginx_url, nginx_etag)[0] == 304
            use_wrk = shutil.which("wrk") is not None and not opts.python_load
            tool = f"wrk -t1 -c{opts.connections}" if use_wrk else "a Python asyncio generator"
            print(
                f"\nrequests per second, {opts.seconds:g} s runs, {opts.connections} "
                f"keep-alive connections, load from {tool}; feed body {len(body) / 1024:.1f} KB"
            )
            print(f"  servers on CPU {server_cpu}, load on CPU {load_cpu}; nginx 1 worker")
            # Rounds alternate the servers, and medians are reported, so that a burst of other
            # work on the machine does not land on one server only.
            samples: dict[tuple[str, int], list[float]] = {}
            targets = (("wearsync", feed_url, feed_etag), ("nginx", nginx_url, nginx_etag))
            for _ in range(opts.rounds):
                for name, url, etag in targets:
                    for code, tag in ((200, None), (304, etag)):
                        if use_wrk:
                            rate = wrk_rate(url, tag, opts.seconds, opts.connections, load_cpu)
                        else:
                            rate = asyncio.run(
                                python_rate(url, tag, opts.seconds, opts.connections)
                            )
                        samples.setdefault((name, code), []).append(rate)
            rates = {k: statistics.median(v) for k, v in samples.items()}
            print(f"  medians of {opts.rounds} alternating rounds")
            print(f"  {'':<10}{'200 (full body)':>18}{'304':>12}")
            for name in ("wearsync", "nginx"):
                print(f"  {name:<10}{rates[name, 200]:>18,.0f}{rates[name, 304]:>12,.0f}")
            ratio = rates["wearsync", 304] / rates["nginx", 304]
            print(
                f"  wearsync/nginx: 200 {rates['wearsync', 200] / rates['nginx', 200]:.2f}, "
                f"304 {ratio:.2f}"
            )
            print(f"  target: 304 rate >= 1/4 of nginx's: {'ok' if ratio >= 0.25 else 'BELOW'}")
        finally:
            if nginx is not None:
                nginx.send_signal(signal.SIGQUIT)  # graceful stop of this nginx only
                nginx.wait(timeout=10)
            if child.pid is not None:
                os.kill(child.pid, signal.SIGTERM)
            child.join(timeout=10)


if __name__ == "__main__":
    main()
