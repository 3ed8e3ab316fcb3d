"""The fake server must look like the documented API, or the provider tests prove nothing."""

import base64
import time

import httpx
import numpy as np
import orjson

from tests.fakes.openai_server import FakeOpenAIServer, fake_embedding


def post(server: FakeOpenAIServer, path: str, body: dict, key: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key or server.api_key}"}
    return httpx.post(f"{server.base_url}{path}", json=body, headers=headers, timeout=5)


def sse_events(response: httpx.Response) -> list[str]:
    return [line.removeprefix("data: ") for line in response.text.split("\n\n") if line]


def test_a_wrong_key_gets_openais_401_body(openai_server: FakeOpenAIServer):
    response = post(
        openai_server, "/chat/completions", {"model": "m", "messages": []}, key="sk-nope-12345678"
    )

    assert response.status_code == 401
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["code"] == "invalid_api_key"
    assert "5678" in error["message"]  # masked like the real API, which is why we never copy it


def test_a_plain_completion_has_the_documented_shape(openai_server: FakeOpenAIServer):
    openai_server.script("Hello there.")

    body = post(
        openai_server, "/chat/completions", {"model": "m", "messages": [{"role": "user", "content": "Hi"}]}
    )

    completion = body.json()
    assert completion["object"] == "chat.completion"
    assert completion["choices"][0]["message"] == {
        "role": "assistant",
        "content": "Hello there.",
        "refusal": None,
    }
    assert completion["choices"][0]["finish_reason"] == "stop"
    assert completion["usage"]["completion_tokens"] == 2


def test_a_stream_has_the_documented_chunks(openai_server: FakeOpenAIServer):
    openai_server.script("Hello there.")
    body = {"model": "m", "messages": [], "stream": True, "stream_options": {"include_usage": True}}

    response = post(openai_server, "/chat/completions", body)

    assert response.headers["content-type"].startswith("text/event-stream")
    events = sse_events(response)
    assert events[-1] == "[DONE]"
    chunks = [orjson.loads(event) for event in events[:-1]]
    assert {chunk["object"] for chunk in chunks} == {"chat.completion.chunk"}
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert [chunk["choices"][0]["delta"].get("content") for chunk in chunks[1:3]] == ["Hello", " there."]
    assert chunks[3]["choices"][0]["finish_reason"] == "stop"
    assert chunks[4]["choices"] == []
    assert chunks[4]["usage"]["completion_tokens"] == 2


def test_a_stream_without_include_usage_has_no_usage_chunk(openai_server: FakeOpenAIServer):
    response = post(openai_server, "/chat/completions", {"model": "m", "messages": [], "stream": True})

    chunks = [orjson.loads(event) for event in sse_events(response)[:-1]]
    assert all(chunk["choices"] for chunk in chunks)
    assert all("usage" not in chunk for chunk in chunks)


def test_json_mode_returns_the_scripted_json_text(openai_server: FakeOpenAIServer):
    openai_server.script('{"topic": "Levering"}')
    body = {"model": "m", "messages": [], "response_format": {"type": "json_object"}}

    content = post(openai_server, "/chat/completions", body).json()["choices"][0]["message"]["content"]

    assert orjson.loads(content) == {"topic": "Levering"}


def test_the_stream_keeps_the_scripted_pace(openai_server: FakeOpenAIServer):
    openai_server.script(tokens=["a", "b", "c", "d", "e"], first_token_delay=0.2, interval=0.05)
    body = {"model": "m", "messages": [], "stream": True}
    headers = {"Authorization": f"Bearer {openai_server.api_key}"}
    started = time.monotonic()
    with httpx.stream(
        "POST", f"{openai_server.base_url}/chat/completions", json=body, headers=headers
    ) as response:
        arrivals = [
            time.monotonic() - started
            for line in response.iter_lines()
            if '"content":"' in line and '"content":""' not in line
        ]

    # Never sooner than scripted (a busy machine can only make them later).
    assert len(arrivals) == 5
    assert arrivals[0] >= 0.18
    assert arrivals[-1] >= 0.2 + 4 * 0.05 - 0.02


def test_embeddings_are_deterministic_and_honour_dimensions_and_base64(openai_server: FakeOpenAIServer):
    body = {
        "model": "text-embedding-3-small",
        "input": ["a", "b"],
        "dimensions": 8,
        "encoding_format": "base64",
    }

    first = post(openai_server, "/embeddings", body).json()
    second = post(openai_server, "/embeddings", {**body, "encoding_format": "float"}).json()

    decoded = [np.frombuffer(base64.b64decode(item["embedding"]), dtype=np.float32) for item in first["data"]]
    assert [item["index"] for item in first["data"]] == [0, 1]
    np.testing.assert_allclose(decoded[0], second["data"][0]["embedding"], rtol=1e-6)
    np.testing.assert_allclose(decoded[1], fake_embedding("b", 8), rtol=1e-6)
    assert first["usage"]["prompt_tokens"] == 2


def test_an_unknown_path_is_a_404_with_an_error_body(openai_server: FakeOpenAIServer):
    response = post(openai_server, "/assistants", {})

    assert response.status_code == 404
    assert response.json()["error"]["type"] == "invalid_request_error"
