"""Where the gateway's time goes: POST /api/v1/chat/completions called in-process (the WSGI app
straight, no HTTP server) against the emulator on loopback and PostgreSQL, under pyinstrument.

Usage:  .venv/bin/python bench/profile_gateway.py [--requests 300] [--port-base 18010]

Prints the mean in-process time per call (upstream included) and pyinstrument's call tree.
Only 127.0.0.1 is contacted; the database (``--database``) is dropped and created anew.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import time
from typing import Any

from harness import ROOT, Processes, app_env, prepare_database, start_emulator

BODY = json.dumps(
    {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "Hej! Har ni öppet på lördag?"}]}
).encode()


def wsgi_environ(token: str, body: bytes = BODY) -> dict[str, Any]:
    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/api/v1/chat/completions",
        "QUERY_STRING": "",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_AUTHORIZATION": f"Bearer {token}",
        "HTTP_HOST": "127.0.0.1",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }


def print_inclusive_calls(call: Any, *, requests: int, lines: int) -> None:
    """Python and C function calls made per gateway call, counted inclusively per function.

    Unlike a timing this does not move with the machine's load, so a change's effect on the hot
    path can be read on a busy machine: fewer calls per request is less CPU per request.
    """
    from collections import Counter

    inclusive: Counter[str] = Counter()
    stack: list[str] = []

    def profile(frame: Any, event: str, arg: Any) -> None:
        if event in ("call", "c_call"):
            name = (
                f"{arg.__module__ or ''}.{arg.__qualname__}"
                if event == "c_call"
                else f"{frame.f_code.co_filename.removeprefix(str(ROOT) + '/')}:{frame.f_code.co_name}"
            )
            for seen in set(stack):
                inclusive[seen] += 1
            inclusive[name] += 1
            stack.append(name)
        elif event in ("return", "c_return", "c_exception") and stack:
            stack.pop()

    sys.setprofile(profile)
    try:
        for _ in range(requests):
            call()
    finally:
        sys.setprofile(None)
    total = inclusive.most_common(1)[0][1] / requests
    print(f"function calls per gateway call: {total:.0f}")
    for name, count in inclusive.most_common(lines):
        print(f"{count / requests:9.0f}  {name[-110:]}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--port-base", type=int, default=18010)
    parser.add_argument("--database", default="openrouter_bench")
    parser.add_argument("--redis-db", type=int, default=9)
    parser.add_argument("--cpu", action="store_true", help="cProfile on CPU time instead of pyinstrument")
    parser.add_argument("--stream", action="store_true", help="streamed calls (SSE) instead of JSON")
    parser.add_argument("--lines", type=int, default=45, help="how many functions cProfile lists")
    parser.add_argument(
        "--calls",
        action="store_true",
        help="count function calls per call, inclusive per function (a deterministic proxy of CPU)",
    )
    args = parser.parse_args()
    env = app_env(database=args.database, redis_db=args.redis_db, emulator_port=args.port_base)
    procs = Processes()
    try:
        key = start_emulator(procs, port=args.port_base, env=env)
        token = prepare_database(env, database=args.database, inference_key=key)
        os.environ.update(env)
        sys.path.insert(0, str(ROOT))
        import django
        from pyinstrument import Profiler

        django.setup()
        from django.core.handlers.wsgi import WSGIHandler

        app = WSGIHandler()
        statuses: list[str] = []

        request_body = json.dumps({**json.loads(BODY), "stream": True}).encode() if args.stream else BODY

        def call() -> None:
            body = app(wsgi_environ(token, request_body), lambda status, headers: statuses.append(status))
            b"".join(body)
            body.close()  # type: ignore[attr-defined]

        for _ in range(50):
            call()
        started, cpu_started = time.perf_counter(), time.process_time()
        for _ in range(args.requests):
            call()
        mean = (time.perf_counter() - started) * 1000 / args.requests
        cpu = (time.process_time() - cpu_started) * 1000 / args.requests
        assert set(statuses) == {"200 OK"}, set(statuses)
        if args.calls:
            print_inclusive_calls(call, requests=min(args.requests, 50), lines=args.lines)
        elif args.cpu:  # where the CPU goes (waits on the network or the database do not count)
            import cProfile
            import pstats

            cpu_profiler = cProfile.Profile(time.process_time)
            cpu_profiler.enable()
            for _ in range(args.requests):
                call()
            cpu_profiler.disable()
            pstats.Stats(cpu_profiler).sort_stats("cumulative").print_stats(args.lines)
            pstats.Stats(cpu_profiler).sort_stats("tottime").print_stats(30)
        else:
            profiler = Profiler(interval=0.0002, async_mode="disabled")
            with profiler:
                for _ in range(args.requests):
                    call()
            print(profiler.output_text(unicode=True, color=False, show_all=False))
        print(f"mean in-process time per call (upstream included): {mean:.2f} ms")
        print(f"mean CPU time of this process per call: {cpu:.2f} ms")
    finally:
        procs.stop()


if __name__ == "__main__":
    main()
