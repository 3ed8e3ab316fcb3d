"""The embedded Celery broker: kombu's file-system transport, keeping each message until it is
acknowledged.

kombu's transport deletes a message file as soon as a worker fetches it, so a worker killed
mid-task (kill -9, the OOM killer, a power cut) loses every task it held, late acknowledgement
or not. No kombu transport keeps unacknowledged messages without a server (Redis and RabbitMQ
need one; the SQLAlchemy transport hides fetched messages for good and needs SQLAlchemy), so this
one moves a fetched message into a folder of the fetching process and deletes it on
acknowledgement. Each such folder holds a POSIX lock of its process, which the kernel drops when
the process ends however it ends (and which forked pool children do not inherit); a consumer that
can take a folder's lock gives the messages in it back to their queues.
"""

import contextlib
import fcntl
import os
import uuid
from pathlib import Path
from queue import Empty
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem, virtual
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads

# How often a consumer looks for messages held by processes that are gone (also at its first
# fetch, so a restarted worker takes them over at once).
RECOVER_INTERVAL_SECONDS = 5.0


class _HeldFolder:
    """This process's folder of fetched, unacknowledged messages, locked while the process lives."""

    def __init__(self, root: Path):
        root.mkdir(parents=True, exist_ok=True)
        name = uuid.uuid4().hex
        # Made under a hidden name and renamed once locked, so no consumer ever sees it unlocked.
        hidden = root / f".{name}"
        hidden.mkdir()
        self._lock = os.open(hidden / "lock", os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.lockf(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self.path = root / name
        hidden.rename(self.path)
        self.pid = os.getpid()


# One folder per broker folder and process; a forked child makes its own.
_held: dict[Path, _HeldFolder] = {}


def _held_folder(root: Path) -> _HeldFolder:
    held = _held.get(root)
    if held is None or held.pid != os.getpid():
        held = _held[root] = _HeldFolder(root)
    return held


def held_messages_recover(root: Path, queue_folder: Path) -> int:
    """Give the messages held by processes that are gone back to their queues; return how many."""
    try:
        owners = [entry.path for entry in os.scandir(root) if entry.is_dir() and entry.name[0] != "."]
    except FileNotFoundError:
        return 0
    held = _held.get(root)
    own = str(held.path) if held is not None and held.pid == os.getpid() else None
    return sum(_recover_from(Path(owner), queue_folder) for owner in owners if owner != own)


def _recover_from(owner: Path, queue_folder: Path) -> int:
    try:
        lock = os.open(owner / "lock", os.O_RDWR)
    except FileNotFoundError:
        return 0  # another consumer has just recovered it
    try:
        try:
            fcntl.lockf(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return 0  # its process is alive
        recovered = 0
        with contextlib.suppress(FileNotFoundError):
            for name in os.listdir(owner):
                if name.endswith(".msg"):
                    with contextlib.suppress(FileNotFoundError):
                        os.replace(owner / name, queue_folder / name)
                        recovered += 1
        with contextlib.suppress(OSError):
            os.unlink(owner / "lock")
            os.rmdir(owner)
        return recovered
    finally:
        os.close(lock)


class Channel(filesystem.Channel):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._held_files: dict[str, Path] = {}
        self._no_ack_queues: set[str] = set()
        self._recovered_at: float | None = None

    @property
    def held_root(self) -> Path:
        return Path(self.data_folder_in) / "held"

    def _put(self, queue, payload, **kwargs):
        # Written under a name no consumer reads, then renamed: a consumer never reads half a file.
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = Path(self.data_folder_out) / name
        partial = final.with_name(f".{name}.part")
        try:
            partial.write_bytes(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {name!r} to directory") from exc

    def _get(self, queue):
        self._recover_now_and_then()
        wanted = f"{queue}.msg"
        folder = Path(self.data_folder_in)
        for name in sorted(os.listdir(folder)):
            if name.partition(".")[2] != wanted:
                continue
            held = _held_folder(self.held_root).path / name
            try:
                os.replace(folder / name, held)
            except FileNotFoundError:
                continue  # another consumer took it
            payload = loads(bytes_to_str(held.read_bytes()))
            if queue in self._no_ack_queues:
                held.unlink()
            else:
                self._held_files[payload["properties"]["delivery_tag"]] = held
            return payload
        raise Empty()

    def _recover_now_and_then(self) -> None:
        now = monotonic()
        if self._recovered_at is None or now - self._recovered_at >= RECOVER_INTERVAL_SECONDS:
            self._recovered_at = now
            held_messages_recover(self.held_root, Path(self.data_folder_in))

    def _release(self, delivery_tag) -> None:
        held = self._held_files.pop(delivery_tag, None)
        if held is None:
            return
        with contextlib.suppress(FileNotFoundError):
            if self.store_processed:
                os.replace(held, Path(self.processed_folder) / held.name)
            else:
                held.unlink()

    def basic_consume(self, queue, no_ack, *args, **kwargs):
        if no_ack:
            self._no_ack_queues.add(queue)
        return super().basic_consume(queue, no_ack, *args, **kwargs)

    def basic_get(self, queue, no_ack=False, **kwargs):
        message = super().basic_get(queue, no_ack=no_ack, **kwargs)
        if message is not None and no_ack:
            self._release(message.delivery_tag)
        return message

    def basic_ack(self, delivery_tag, multiple=False):
        super().basic_ack(delivery_tag, multiple=multiple)
        self._release(delivery_tag)

    def basic_reject(self, delivery_tag, requeue=False):
        # With requeue, `_restore` has put a copy back on the queue before the held one goes.
        super().basic_reject(delivery_tag, requeue=requeue)
        self._release(delivery_tag)

    def _restore(self, message):
        super()._restore(message)
        self._release(message.delivery_tag)


class Transport(filesystem.Transport):
    Channel = Channel
    global_state = virtual.BrokerState()
