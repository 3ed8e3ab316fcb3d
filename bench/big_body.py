"""What an unauthenticated large body costs the web process (issue 16, item 4).

Starts the web process exactly as `make run` does (the Procfile's `web:` line, embedded defaults,
a temporary VAR_DIR), notes its RSS, then for each size sends one multipart POST to `/healthz`
from another process while this one times `GET /healthz` in a loop and samples the web
process's RSS. Everything runs on 127.0.0.1 and every loop is bounded.

    .venv/bin/python bench/big_body.py                  # 60 MiB and 120 MiB
    .venv/bin/python bench/big_body.py --sizes 60,120,250
"""

import argparse
import http.client
import multiprocessing
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MIB = 1024 * 1024
BOUNDARY = "bigbodybenchboundary"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_bytes(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) * 1024


def healthz_seconds(port: int) -> float:
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", "/healthz")
        conn.getresponse().read()
    finally:
        conn.close()
    return time.perf_counter() - started


def send_big_body(port: int, size: int, result) -> None:
    """Send a multipart body of `size` bytes with its Content-Length; say how it was answered."""
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    chunk = b"x" * MIB
    sent = 0
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
            sock.sendall(
                (
                    f"POST /healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                    f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
                    f"Content-Length: {size}\r\nConnection: close\r\n\r\n"
                ).encode()
            )
            sock.sendall(head)
            sent = len(head)
            payload = size - len(head) - len(tail)
            while payload > 0:
                piece = chunk[: min(payload, MIB)]
                sock.sendall(piece)
                sent += len(piece)
                payload -= len(piece)
            sock.sendall(tail)
            sent += len(tail)
            status = sock.recv(64).split(b"\r\n", 1)[0].decode(errors="replace")
            result.put(f"{status} after sending all {sent} bytes")
    except OSError as error:
        result.put(f"{type(error).__name__} after sending {sent // MIB} MiB")


def attack(pid: int, port: int, size: int) -> dict:
    baseline = rss_bytes(pid)
    peak = baseline
    timings: list[float] = []
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, rss_bytes(pid))
            time.sleep(0.01)

    def probe() -> None:
        deadline = time.monotonic() + 120
        while not done.is_set() and time.monotonic() < deadline:
            timings.append(healthz_seconds(port))
            time.sleep(0.02)

    threads = [threading.Thread(target=sample), threading.Thread(target=probe)]
    for thread in threads:
        thread.start()
    result = multiprocessing.Queue()
    sender = multiprocessing.Process(target=send_big_body, args=(port, size, result))
    sender.start()
    sender.join(timeout=120)
    outcome = result.get(timeout=5) if not sender.is_alive() else "still sending after 120 s"
    if sender.is_alive():
        sender.terminate()
    time.sleep(1)  # let the web process finish with the body while still probing and sampling
    done.set()
    for thread in threads:
        thread.join()
    return {
        "size": size,
        "outcome": outcome,
        "baseline": baseline,
        "peak": peak,
        "probes": len(timings),
        "slowest": max(timings),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="60,120", help="body sizes in MiB, comma-separated")
    args = parser.parse_args()

    web_line = next(
        line.split(":", 1)[1].strip()
        for line in (ROOT / "Procfile").read_text().splitlines()
        if line.startswith("web:")
    )
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="big_body_") as var_dir:
        env = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG"}}
        env.update(VAR_DIR=var_dir, WEB_PORT=str(port), LOG_LEVEL="WARNING")
        log = Path(var_dir) / "web.log"
        with log.open("w") as out:
            # The Procfile line as honcho runs it: through a shell, which expands ${WEB_PORT}.
            web = subprocess.Popen(  # noqa: S603  (the project's own Procfile)
                ["/bin/bash", "-c", f"exec {web_line}"], cwd=ROOT, env=env, stdout=out, stderr=out
            )
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    healthz_seconds(port)
                    break
                except OSError:
                    if time.monotonic() > deadline or web.poll() is not None:
                        sys.exit(f"the web process did not answer:\n{log.read_text()[-2000:]}")
                    time.sleep(0.2)
            quiet = max(healthz_seconds(port) for _ in range(20))
            print(f"web: {web_line}")
            print(
                f"RSS at start {rss_bytes(web.pid) / MIB:.0f} MiB, "
                f"slowest idle /healthz {quiet * 1000:.0f} ms"
            )
            for size in (int(mib) * MIB for mib in args.sizes.split(",")):
                row = attack(web.pid, port, size)
                print(
                    f"{size // MIB} MiB POST /healthz: {row['outcome']}; RSS {row['baseline'] / MIB:.0f} -> "
                    f"{row['peak'] / MIB:.0f} MiB (+{(row['peak'] - row['baseline']) / MIB:.0f}); "
                    f"slowest of {row['probes']} /healthz {row['slowest'] * 1000:.0f} ms"
                )
        finally:
            web.send_signal(signal.SIGTERM)
            try:
                web.wait(timeout=15)
            except subprocess.TimeoutExpired:
                web.kill()


if __name__ == "__main__":
    main()
