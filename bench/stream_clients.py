"""The clients of bench/stream.py and what they measure.

One `Answer` per client and question: when the question was sent, when each provider token
arrived (an event that carries several tokens counts as several arrivals at the same instant),
and whether every token arrived once and in order. `ws_*` talk DESIGN.md's websocket protocol (to
the platform and to the bare relay), `DirectClient` reads the provider's SSE stream itself, like
the platform's provider client does.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import re
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection, connect

# `--same-question` asks only this one; by default the clients draw from QUESTIONS_FILE.
QUESTION = "Hvad koster fragt til Bornholm?"
QUESTIONS_FILE = Path(__file__).resolve().parent / "questions.txt"
# The fake provider's answer: TOKENS words, the first after FIRST_TOKEN_MS, then one per INTERVAL_MS.
FIRST_TOKEN_MS = 200
INTERVAL_MS = 20
TOKENS = 100
# The fake server's tokens are words, each but the first with its leading space.
_TOKEN_RE = re.compile(r"\s*\S+")
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def tokens_of(text: str) -> list[str]:
    return _TOKEN_RE.findall(text)


def question_pool(path: Path = QUESTIONS_FILE) -> list[str]:
    """The distinct questions of `path`, one a line, in file order (blank and `#` lines skipped)."""
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return list(dict.fromkeys(line for line in lines if line and not line.startswith("#")))


# Words only one of the two languages uses, enough to tell a short question's language ("I",
# Danish for "you", is in neither).
# fmt: off
DANISH_WORDS = {
    "hvad", "hvor", "hvilken", "hvilke", "hvornår", "hvordan", "hvem", "hvis", "jeg", "mit", "min",
    "mine", "jeres", "til", "og", "er", "på", "har", "kan", "skal", "må", "man", "der", "det", "en",
    "et", "vin", "med", "om", "fra", "efter", "ved", "sælger", "leverer", "sender", "får", "tager",
    "imod"
}
ENGLISH_WORDS = {
    "what", "how", "when", "where", "which", "who", "why", "do", "does", "is", "are", "can", "my",
    "you", "your", "the", "a", "to", "for", "with", "of", "in", "on", "wine", "should", "will", "has"
}
# fmt: on

# What a shopper may say around a question: pass p >= 1 over the pool asks each question with
# the (p - 1)-th combination of an opening and a closing, so no text comes back within 48 passes
# (about 14,000 questions); later passes add their number.
OPENINGS = {
    "da": [
        "Hej, ",
        "Godmorgen! ",
        "Goddag, ",
        "Hej igen, ",
        "Hurtigt spørgsmål: ",
        "Undskyld, ",
        "Hallo, ",
        "Godaften! ",
        "Et spørgsmål: ",
        "Hej med dig, ",
        "Hej hej! ",
        "Kære Nordvin, ",
    ],
    "en": [
        "Hello, ",
        "Hi, ",
        "Quick question: ",
        "Good morning! ",
        "Hey, ",
        "Excuse me, ",
        "Hi there, ",
        "Good evening! ",
        "One question: ",
        "Hello again, ",
        "Sorry to bother you, ",
        "Dear Nordvin, ",
    ],
}
CLOSINGS = {
    "da": ["", " Tak!", " På forhånd tak.", " Mvh."],
    "en": ["", " Thanks!", " Thanks in advance.", " Cheers."],
}


def question_language(question: str) -> str:
    """ "da", "en", or "?" when the words do not tell."""
    words = re.findall(r"\w+", question.lower())
    danish = sum(word in DANISH_WORDS for word in words) + sum(ch in "æøå" for ch in question.lower())
    english = sum(word in ENGLISH_WORDS for word in words)
    return "da" if danish > english else "en" if english > danish else "?"


def question_in_pass(question: str, number: int) -> str:
    """`question` as asked in pass `number` (0: as written) over the pool."""
    if number == 0:
        return question
    language = "da" if question_language(question) == "da" else "en"
    openings, closings = OPENINGS[language], CLOSINGS[language]
    combination = (number - 1) % (len(openings) * len(closings))
    opening = openings[combination % len(openings)]
    closing = closings[combination // len(openings)]
    first, _, rest = question.partition(" ")
    if opening.endswith(", ") and first.lower() in DANISH_WORDS | ENGLISH_WORDS:
        question = f"{first.lower()} {rest}"  # "Hej, hvad koster ..."; "Hello, I ..." stays
    text = f"{opening}{question}{closing}"
    if number > len(openings) * len(closings):
        text += f" ({number})"
    return text


class QuestionDraw:
    """The questions one path's clients ask, round after round.

    A text asked again finds its embedding and route in the platform's caches, so the pool is
    gone through in a shuffled order, no question comes back before every other one has been
    asked, and each pass after the first words the questions differently (`question_in_pass`): no
    text is asked twice in a run. A new pass starts with the questions of the round under way last,
    so no round asks one twice while the pool is at least as large as the round. The same seed
    gives the same texts in the same order: every path, and every run compared with another, asks
    the same ones. A pool of one question (`--same-question`) is asked as it is, every time.
    """

    def __init__(self, pool: list[str], seed: int = 0) -> None:
        if not pool:
            raise ValueError("the question pool is empty")
        self.pool = list(pool)
        self._random = random.Random(seed)
        self._order: list[str] = []
        self._next = 0
        self._pass = -1

    def take(self, count: int) -> list[str]:
        taken: list[str] = []
        asked: set[str] = set()
        while len(taken) < count:
            if self._next == len(self._order):
                order = self._random.sample(self.pool, len(self.pool))
                self._order = [q for q in order if q not in asked] + [q for q in order if q in asked]
                self._next = 0
                self._pass += 1
            question = self._order[self._next]
            asked.add(question)
            self._next += 1
            taken.append(question_in_pass(question, self._pass) if len(self.pool) > 1 else question)
        return taken


@dataclass
class Answer:
    """One client's answer to one question."""

    sent_at: float
    arrivals: list[float] = field(default_factory=list)  # perf_counter of each provider token
    events: int = 0
    tokens: int = 0
    lost: int = 0
    reordered: int = 0
    duplicated: int = 0
    error: str = ""
    finished_at: float = 0.0

    @property
    def ttft(self) -> float | None:
        return self.arrivals[0] - self.sent_at if self.arrivals else None

    @property
    def gaps(self) -> list[float]:
        arrivals = self.arrivals
        return [arrivals[i] - arrivals[i - 1] for i in range(1, len(arrivals))]

    def check(self, pieces: list[str], seqs: list[int], end_text: str | None, expected: list[str]) -> None:
        """Count lost, duplicated and reordered tokens against the provider's own answer."""
        text = "".join(pieces)
        delivered = tokens_of(text)
        self.tokens = len(delivered)
        self.lost = max(len(expected) - len(delivered), 0)
        self.duplicated = max(len(delivered) - len(expected), 0)
        # seq must be 1..n with no gap or repeat; a token in the wrong place is reordered.
        out_of_place_seqs = sum(1 for index, seq in enumerate(seqs, start=1) if seq != index)
        out_of_place_tokens = sum(1 for got, want in zip(delivered, expected, strict=False) if got != want)
        self.reordered = max(out_of_place_seqs, out_of_place_tokens if not self.lost else 0)
        if end_text is not None and end_text != text and not self.error:
            self.error = "end text differs from the streamed tokens"
        if text != "".join(expected) and not self.error:
            self.error = "streamed text differs from the provider's"


@dataclass
class Round:
    path: str
    concurrency: int
    answers: list[Answer]
    seconds: float
    server_cpu: float | None = None
    server_cpu_stat: float | None = None
    driver_cpu: float = 0.0
    connect_seconds: float = 0.0
    attempts: int = 1
    # CPU during the round of PostgreSQL and Redis, and of everything else on the machine.
    services_cpu: float = 0.0
    other_cpu: float = 0.0

    @property
    def tokens(self) -> int:
        return sum(answer.tokens for answer in self.answers)

    def as_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "concurrency": self.concurrency,
            "seconds": round(self.seconds, 4),
            "tokens": self.tokens,
            "events": sum(answer.events for answer in self.answers),
            "server_cpu_s": self.server_cpu,
            "server_cpu_stat_s": self.server_cpu_stat,
            "driver_cpu_s": round(self.driver_cpu, 4),
            "services_cpu_s": round(self.services_cpu, 4),
            "other_cpu_s": round(self.other_cpu, 4),
            "connect_s": round(self.connect_seconds, 4),
            "attempts": self.attempts,
            "clients": [
                {
                    "ttft_ms": round(answer.ttft * 1000, 3) if answer.ttft is not None else None,
                    "gaps_ms": [round(gap * 1000, 3) for gap in answer.gaps],
                    "events": answer.events,
                    "tokens": answer.tokens,
                    "lost": answer.lost,
                    "reordered": answer.reordered,
                    "duplicated": answer.duplicated,
                    "error": answer.error,
                }
                for answer in self.answers
            ],
        }


# --- websocket (platform and relay) ------------------------------------------------------------


async def ws_open(url: str, *, greeting: bool) -> ClientConnection:
    """An idle connection; the platform greets with its `conversation` event first."""
    ws = await connect(url, compression=None, max_size=2**22, ping_interval=None, open_timeout=60)
    if greeting:
        event = orjson.loads(await ws.recv(decode=False))
        if event.get("type") != "conversation":
            raise RuntimeError(f"expected the conversation event, got {event}")
    return ws


async def ws_ask(ws: ClientConnection, expected: list[str], question: str = QUESTION) -> Answer:
    frame = orjson.dumps({"type": "message", "text": question}).decode()
    answer = Answer(sent_at=time.perf_counter())
    await ws.send(frame)
    pieces: list[str] = []
    seqs: list[int] = []
    end_text: str | None = None
    while True:
        raw = await ws.recv(decode=False)
        now = time.perf_counter()
        event = orjson.loads(raw)
        kind = event.get("type")
        if kind == "token":
            text = event["text"]
            answer.events += 1
            pieces.append(text)
            seqs.append(event["seq"])
            answer.arrivals.extend([now] * len(tokens_of(text)))
        elif kind == "end":
            end_text = event.get("text")
            break
        elif kind == "error":
            answer.error = f"{event.get('code')}: {event.get('message')}"
            break
    answer.finished_at = time.perf_counter()
    answer.check(pieces, seqs, end_text, expected)
    return answer


# --- direct (the provider's own SSE stream) ----------------------------------------------------


class DirectClient:
    """One keep-alive HTTP/1.1 connection to the provider, reading its SSE stream as it comes.

    Deliberately minimal (one write per request, chunked body parsed by hand): with httpx, building
    and sending 100 requests at once took the benchmark's own CPU for ~50 ms, which delayed the
    last requests and made the direct path, the baseline of every "added" figure, look slower
    than the provider is. A websocket client's send costs microseconds; so does this one's.
    """

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> DirectClient:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return self

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()

    async def ask(self, expected: list[str], question: str = QUESTION) -> Answer:
        body = orjson.dumps(
            {
                "model": "gpt-4o-mini",
                "messages": [{"role": "user", "content": question}],
                "stream": True,
                "stream_options": {"include_usage": True},
            }
        )
        request = (
            f"POST /v1/chat/completions HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Authorization: Bearer sk-bench\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode() + body
        reader, writer = self.reader, self.writer
        answer = Answer(sent_at=time.perf_counter())
        writer.write(request)
        status = await reader.readline()
        while (await reader.readline()) not in (b"\r\n", b""):
            pass  # headers; the fake server always answers in chunks
        if not status.startswith(b"HTTP/1.1 200"):
            answer.error = status.decode(errors="replace").strip()
            return answer
        pieces: list[str] = []
        while True:
            size = int((await reader.readline()).split(b";")[0], 16)
            if size == 0:
                await reader.readline()
                break
            chunk = (await reader.readexactly(size + 2))[:-2]
            now = time.perf_counter()
            for line in chunk.split(b"\n"):
                if not line.startswith(b"data: ") or line == b"data: [DONE]":
                    continue
                choices = orjson.loads(line[6:]).get("choices")
                content = (choices[0].get("delta") or {}).get("content") if choices else None
                if content:
                    pieces.append(content)
                    answer.events += 1
                    answer.arrivals.extend([now] * len(tokens_of(content)))
        answer.finished_at = time.perf_counter()
        answer.check(pieces, list(range(1, len(pieces) + 1)), None, expected)
        return answer


# --- the server process ------------------------------------------------------------------------


def process_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and all its threads.

    Sums the nanosecond counters of /proc/<pid>/task/*/schedstat; /proc/<pid>/stat's utime+stime
    count in 10 ms ticks, too coarse for one client's round. Threads that exited in between would
    be missing from the sum: daphne's executor threads live as long as the process.
    """
    total = 0
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            try:
                total += int((task / "schedstat").read_text().split()[0])
            except (FileNotFoundError, ProcessLookupError):
                continue
    except FileNotFoundError:
        return process_cpu_seconds_stat(pid)
    return total / 1e9 if total else process_cpu_seconds_stat(pid)


def process_cpu_seconds_stat(pid: int) -> float:
    """utime + stime from /proc/<pid>/stat (10 ms resolution), the cross-check."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def machine_busy_seconds() -> float:
    """CPU time all cores spent on anything but idle and iowait, from /proc/stat."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq + steal) / _CLOCK_TICKS


def services_cpu_seconds(names: tuple[str, ...] = ("postgres", "redis-server")) -> float:
    """CPU time of every PostgreSQL and Redis process (their work for the platform, mostly)."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        name, rest = stat.split("(", 1)[1].rsplit(")", 1)
        if name in names:
            fields = rest.split()
            total += int(fields[11]) + int(fields[12])
    return total / _CLOCK_TICKS


def process_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0
