"""Waiting in tests for something that happens on its own time."""

import asyncio
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path


async def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Return once `condition()` holds; fail with TimeoutError after `timeout` seconds."""
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.005)


def wait_until(condition: Callable[[], object], timeout: float, what: str, log: Path | None = None):
    """Return `condition()` once it is true (polled from a test's own thread, e.g. for a file a
    subprocess writes); fail after `timeout` seconds, with the end of `log` when there is one."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.05)
    tail = log.read_text()[-3000:] if log and log.exists() else ""
    raise AssertionError(f"timed out after {timeout} s waiting for {what}\n{tail}")


def wait_for_server(
    process: subprocess.Popen, port: int, log: Path | None = None, timeout: float = 30.0
) -> None:
    """Return once `process` accepts connections on 127.0.0.1:`port`. A server that exits first
    or does not listen in time is killed, and the test fails with the end of its log."""

    def listening() -> bool:
        if process.poll() is not None:
            tail = log.read_text()[-3000:] if log and log.exists() else ""
            raise AssertionError(f"the server for port {port} exited with {process.returncode}\n{tail}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except OSError:
            return False
        return True

    try:
        wait_until(listening, timeout, f"a server on port {port}", log)
    except AssertionError:
        process.kill()
        raise
