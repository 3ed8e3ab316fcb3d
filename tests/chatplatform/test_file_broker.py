"""The embedded broker keeps a fetched message until it is acknowledged, and gives the messages
of a process that died back to their queue."""

import multiprocessing
import os
import signal
import uuid
from pathlib import Path

import pytest
from kombu import Connection, Exchange, Queue

from chatplatform.file_broker import held_messages_recover


@pytest.fixture
def broker(tmp_path) -> Path:
    for folder in ("control", "processed"):
        (tmp_path / folder).mkdir()
    return tmp_path


@pytest.fixture
def queue() -> Queue:
    # A name of its own per test: kombu remembers declared exchanges per process, not per folder.
    name = f"probe-{uuid.uuid4().hex[:8]}"
    return Queue(name, Exchange(name, type="direct"), routing_key=name)


def connect(folder: Path) -> Connection:
    return Connection(
        "filesystem://localhost//",
        transport="chatplatform.file_broker:Transport",
        transport_options={
            "data_folder_in": str(folder),
            "data_folder_out": str(folder),
            "control_folder": str(folder / "control"),
            "processed_folder": str(folder / "processed"),
        },
    )


def publish(folder: Path, queue: Queue, body: dict) -> None:
    with connect(folder) as connection:
        connection.Producer().publish(
            body, exchange=queue.exchange, routing_key=queue.routing_key, declare=[queue]
        )


def fetch_and_hold(folder: Path, queue: Queue, fetched) -> None:
    """In a child process: fetch one message, say so, and never acknowledge it."""
    connection = connect(folder)
    message = queue(connection.default_channel).get()
    fetched.send(message.payload)
    signal.pause()


def held_files(folder: Path) -> list[Path]:
    return list((folder / "held").glob("*/*.msg"))


def test_an_acknowledged_message_is_deleted_and_never_delivered_again(broker, queue):
    publish(broker, queue, {"n": 1})
    with connect(broker) as connection:
        bound = queue(connection.default_channel)
        message = bound.get()
        assert message.payload == {"n": 1}
        assert len(held_files(broker)) == 1
        message.ack()
        assert held_files(broker) == []
        assert bound.get() is None


def test_a_message_held_by_a_live_process_stays_with_it_and_returns_when_the_process_is_killed(broker, queue):
    publish(broker, queue, {"n": 2})
    context = multiprocessing.get_context("fork")
    receiving, sending = context.Pipe(duplex=False)
    holder = context.Process(target=fetch_and_hold, args=(broker, queue, sending))
    holder.start()
    try:
        assert receiving.poll(30), "the child did not fetch the message"
        assert receiving.recv() == {"n": 2}
        assert held_messages_recover(broker / "held", broker) == 0
        with connect(broker) as connection:
            assert queue(connection.default_channel).get() is None
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.join(30)

    assert held_messages_recover(broker / "held", broker) == 1
    with connect(broker) as connection:
        message = queue(connection.default_channel).get()
        assert message.payload == {"n": 2}
        message.ack()
    assert held_files(broker) == []
