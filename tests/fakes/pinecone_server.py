"""A Pinecone-compatible HTTP server on 127.0.0.1, so tests run the real `pinecone` SDK offline.

The control plane (`/indexes`) listens on one port. Every index gets a data plane on a port of
its own, because in the real API an index's `host` is a bare origin that the SDK joins request
paths to; a separate origin per index keeps that shape (and lets a deleted index's host stop
answering, as it does in Pinecone). Hosts carry an explicit `http://` scheme: the SDK would
otherwise assume https.

Responses follow the API version the client asks for in `X-Pinecone-Api-Version`: from 2026-01
on an index is described by `schema` and `deployment` (what the 10.x SDK parses), before that by
`dimension`, `metric` and `spec`. Control-plane errors use `{"error": {"code", "message"},
"status"}`, data-plane errors the gRPC-gateway shape `{"code", "message", "details"}`.

Test controls: `create_index`, `delete_index`, `set_index_state`, `fail_next` (answer the next N
requests with an error status, with `Retry-After`), `delay_next` (hold the next N requests),
`requests` (everything received, in order) and `vectors` (what an index stores).
"""

from __future__ import annotations

import base64
import contextlib
import json
import math
import re
import secrets
import socket
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

Plane = Literal["control", "data"]

# From this API version on, Pinecone describes an index by `schema` + `deployment`.
SCHEMA_API_VERSION = "2026-01"
DENSE_FIELD = "_values"  # the reserved field name the vectors API addresses dense values by
MAX_UPSERT_VECTORS = 1000
MAX_DELETE_IDS = 1000
MAX_TOP_K = 10_000
_INDEX_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,43}[a-z0-9])?$")
_CONTROL_CODES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    429: "RESOURCE_EXHAUSTED",
    500: "UNKNOWN",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
_GRPC_CODES = {400: 3, 401: 16, 403: 7, 404: 5, 409: 6, 429: 8, 500: 13, 502: 14, 503: 14, 504: 4}
_MISSING = object()


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server received it; header names are lower-case."""

    plane: Plane
    index: str | None
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any

    @property
    def api_version(self) -> str | None:
        return self.headers.get("x-pinecone-api-version")


@dataclass
class FakeIndex:
    name: str
    dimension: int
    metric: str = "cosine"
    host: str = ""
    ready: bool = True
    state: str = "Ready"
    deletion_protection: str = "disabled"
    tags: dict[str, str] | None = None
    # namespace -> id -> (values, metadata)
    namespaces: dict[str, dict[str, tuple[list[float], dict[str, Any]]]] = field(default_factory=dict)


@dataclass
class _Fault:
    remaining: int
    plane: Plane | None
    status: int | None = None
    delay: float = 0.0
    retry_after: float | None = None


class _BadRequest(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass
class _Response:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class FakePineconeServer:
    """One fake Pinecone project: an API key, a control plane and the indexes' data planes."""

    def __init__(self, *, api_key: str | None = None) -> None:
        # A fresh key per server keeps process-wide client caches from mixing up two tests whose
        # servers happened to get the same port.
        self.api_key = api_key or f"pcsk_fake_{secrets.token_hex(8)}"
        self.requests: list[RecordedRequest] = []
        self.new_indexes_ready = True
        self._lock = threading.Lock()
        self._indexes: dict[str, FakeIndex] = {}
        self._listeners: dict[str, _Listener] = {}
        self._faults: list[_Fault] = []
        self._control = _Listener(self, index_name=None)

    # --- lifecycle -------------------------------------------------------------------------
    @property
    def controller_host(self) -> str:
        return self._control.origin

    def start(self) -> FakePineconeServer:
        self._control.start()
        return self

    def stop(self) -> None:
        self._control.stop()
        with self._lock:
            listeners = list(self._listeners.values())
            self._listeners.clear()
        for listener in listeners:
            listener.stop()

    # --- test controls ---------------------------------------------------------------------
    def create_index(
        self, name: str, dimension: int, *, metric: str = "cosine", ready: bool = True
    ) -> FakeIndex:
        """Create an index directly (no request recorded) and start its data plane."""
        with self._lock:
            return self._add_index(name, dimension, metric=metric, ready=ready)

    def delete_index(self, name: str) -> None:
        with self._lock:
            self._indexes.pop(name)
            listener = self._listeners.pop(name)
        listener.stop()

    def index_host(self, name: str) -> str:
        with self._lock:
            return self._indexes[name].host

    def set_index_state(self, name: str, state: str, *, ready: bool | None = None) -> None:
        """Set an index's status, e.g. `set_index_state("docs", "Initializing")`."""
        with self._lock:
            index = self._indexes[name]
            index.state = state
            index.ready = state == "Ready" if ready is None else ready

    def fail_next(
        self,
        count: int = 1,
        *,
        status: int = 503,
        plane: Plane | None = None,
        retry_after: float | None = 0,
    ) -> None:
        """Answer the next `count` requests (optionally of one plane) with `status`.

        `Retry-After: 0` by default, so the SDK's own retries do not slow tests down.
        """
        with self._lock:
            self._faults.append(_Fault(count, plane, status=status, retry_after=retry_after))

    def delay_next(self, count: int = 1, *, seconds: float, plane: Plane | None = None) -> None:
        """Hold the next `count` requests for `seconds` before answering them normally."""
        with self._lock:
            self._faults.append(_Fault(count, plane, delay=seconds))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def vectors(self, index: str, namespace: str = "") -> dict[str, dict[str, Any]]:
        """What the index stores in a namespace: `{id: {"values": [...], "metadata": {...}}}`."""
        with self._lock:
            stored = self._indexes[index].namespaces.get(namespace, {})
            return {vid: {"values": list(v), "metadata": dict(m)} for vid, (v, m) in stored.items()}

    def requests_to(self, path: str, *, method: str | None = None) -> list[RecordedRequest]:
        return [r for r in list(self.requests) if r.path == path and method in (None, r.method)]

    # --- request handling ------------------------------------------------------------------
    def handle(self, request: RecordedRequest) -> _Response:
        with self._lock:
            self.requests.append(request)
            fault = self._take_fault(request.plane)
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        if fault is not None and fault.status is not None:
            headers = {} if fault.retry_after is None else {"Retry-After": f"{fault.retry_after:g}"}
            message = (
                "Too many requests." if fault.status == 429 else "The service is temporarily unavailable."
            )
            response = _error(request.plane, fault.status, message)
            response.headers.update(headers)
            return response
        if request.headers.get("api-key") != self.api_key:
            return _error(request.plane, 401, "Invalid API Key")
        retired: list[_Listener] = []
        try:
            with self._lock:
                if request.plane == "control":
                    return self._control_plane(request, retired)
                return self._data_plane(request)
        except _BadRequest as exc:
            return _error(request.plane, exc.status, exc.message)
        finally:
            for listener in retired:
                listener.stop()

    def _take_fault(self, plane: Plane) -> _Fault | None:
        for fault in self._faults:
            if fault.plane in (None, plane):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    def _add_index(self, name: str, dimension: int, *, metric: str, ready: bool) -> FakeIndex:
        index = FakeIndex(name=name, dimension=dimension, metric=metric)
        if not ready:
            index.ready, index.state = False, "Initializing"
        listener = _Listener(self, index_name=name)
        listener.start()
        index.host = listener.origin
        self._indexes[name] = index
        self._listeners[name] = listener
        return index

    # --- control plane ---------------------------------------------------------------------
    def _control_plane(self, request: RecordedRequest, retired: list[_Listener]) -> _Response:
        parts = [unquote(p) for p in request.path.strip("/").split("/")]
        version = request.api_version
        if parts == ["indexes"] and request.method == "GET":
            return _Response(200, {"indexes": [_describe(i, version) for i in self._indexes.values()]})
        if parts == ["indexes"] and request.method == "POST":
            return self._create_from_request(request.body, version)
        if len(parts) == 2 and parts[0] == "indexes":
            index = self._indexes.get(parts[1])
            if index is None:
                raise _BadRequest(f"Resource {parts[1]} not found", 404)
            if request.method == "GET":
                return _Response(200, _describe(index, version))
            if request.method == "DELETE":
                if index.deletion_protection == "enabled":
                    raise _BadRequest("Deletion protection is enabled for this index.", 403)
                del self._indexes[index.name]
                retired.append(self._listeners.pop(index.name))
                return _Response(202)
        raise _BadRequest("Not Found", 404)

    def _create_from_request(self, body: Any, version: str | None) -> _Response:
        if not isinstance(body, dict):
            raise _BadRequest("The request body must be a JSON object.")
        name = body.get("name")
        if not isinstance(name, str) or not _INDEX_NAME.match(name):
            raise _BadRequest(
                "Name must consist of lower case alphanumeric characters or '-', and be 1-45 long."
            )
        dimension, metric = body.get("dimension"), body.get("metric") or "cosine"
        fields = (body.get("schema") or {}).get("fields") or {}
        for spec in fields.values():
            if isinstance(spec, dict) and spec.get("type") == "dense_vector":
                dimension, metric = spec.get("dimension"), spec.get("metric") or "cosine"
        if not isinstance(dimension, int) or not 1 <= dimension <= 20_000:
            raise _BadRequest("A dense index needs a dimension between 1 and 20000.")
        if name in self._indexes:
            raise _BadRequest("Resource already exists", 409)
        index = self._add_index(name, dimension, metric=metric, ready=self.new_indexes_ready)
        index.deletion_protection = body.get("deletion_protection") or "disabled"
        index.tags = body.get("tags")
        return _Response(201, _describe(index, version))

    # --- data plane ------------------------------------------------------------------------
    def _data_plane(self, request: RecordedRequest) -> _Response:
        index = self._indexes.get(request.index or "")
        if index is None:
            raise _BadRequest("Index not found", 404)
        route = (request.method, request.path.rstrip("/"))
        body = request.body if isinstance(request.body, dict) else {}
        if route == ("POST", "/vectors/upsert"):
            return _Response(200, _upsert(index, body))
        if route == ("POST", "/query"):
            return _Response(200, _query(index, body))
        if route == ("POST", "/vectors/delete"):
            return _Response(200, _delete(index, body))
        if route == ("GET", "/vectors/fetch"):
            return _Response(200, _fetch(index, request.query))
        if route == ("GET", "/vectors/list"):
            return _Response(200, _list(index, request.query))
        if route == ("POST", "/describe_index_stats"):
            return _Response(200, _stats(index, body))
        raise _BadRequest("Not Found", 404)


def _error(plane: Plane, status: int, message: str) -> _Response:
    if plane == "control":
        code = _CONTROL_CODES.get(status, "UNKNOWN")
        return _Response(status, {"error": {"code": code, "message": message}, "status": status})
    return _Response(status, {"code": _GRPC_CODES.get(status, 2), "message": message, "details": []})


def _describe(index: FakeIndex, api_version: str | None) -> dict[str, Any]:
    described: dict[str, Any] = {
        "name": index.name,
        "host": index.host,
        "status": {"ready": index.ready, "state": index.state},
        "deletion_protection": index.deletion_protection,
        "tags": index.tags,
    }
    if api_version is not None and api_version >= SCHEMA_API_VERSION:
        dense = {"type": "dense_vector", "dimension": index.dimension, "metric": index.metric}
        described["schema"] = {"fields": {DENSE_FIELD: dense}}
        described["deployment"] = {"deployment_type": "managed", "cloud": "aws", "region": "us-east-1"}
        described["read_capacity"] = {"mode": "OnDemand", "status": {"state": "Ready"}}
    else:
        described.update(
            dimension=index.dimension,
            metric=index.metric,
            vector_type="dense",
            spec={"serverless": {"cloud": "aws", "region": "us-east-1"}},
        )
    return described


def _namespace(value: Any) -> str:
    # Pinecone accepts "__default__" as the name of the default namespace "".
    return "" if value in (None, "__default__") else str(value)


def _check_values(index: FakeIndex, values: Any) -> list[float]:
    if not isinstance(values, list) or not all(isinstance(v, int | float) for v in values):
        raise _BadRequest("Vector values must be a list of numbers.")
    if len(values) != index.dimension:
        raise _BadRequest(
            f"Vector dimension {len(values)} does not match the dimension of the index {index.dimension}"
        )
    return [float(v) for v in values]


def _check_metadata(metadata: Any) -> dict[str, Any]:
    if metadata is None:
        return {}
    if not isinstance(metadata, dict):
        raise _BadRequest("Metadata must be a JSON object.")
    for key, value in metadata.items():
        scalar = isinstance(value, str | int | float | bool)
        string_list = isinstance(value, list) and all(isinstance(v, str) for v in value)
        if not (scalar or string_list):
            raise _BadRequest(
                f"Metadata value for field {key!r} must be a string, number, boolean or list of strings."
            )
    return dict(metadata)


def _upsert(index: FakeIndex, body: dict[str, Any]) -> dict[str, Any]:
    vectors = body.get("vectors")
    if not isinstance(vectors, list) or not vectors:
        raise _BadRequest("At least one vector is required.")
    if len(vectors) > MAX_UPSERT_VECTORS:
        raise _BadRequest(f"Upsert accepts at most {MAX_UPSERT_VECTORS} vectors per request.")
    checked = []
    for vector in vectors:
        vid = vector.get("id") if isinstance(vector, dict) else None
        if not isinstance(vid, str) or not vid:
            raise _BadRequest("Every vector needs a non-empty string id.")
        checked.append(
            (vid, _check_values(index, vector.get("values")), _check_metadata(vector.get("metadata")))
        )
    stored = index.namespaces.setdefault(_namespace(body.get("namespace")), {})
    for vid, values, metadata in checked:
        stored[vid] = (values, metadata)
    return {"upsertedCount": len(checked)}


def _score(metric: str, a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    if metric == "dotproduct":
        return dot
    if metric == "euclidean":
        return sum((x - y) ** 2 for x, y in zip(a, b, strict=True))
    norms = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norms if norms else 0.0


def _query(index: FakeIndex, body: dict[str, Any]) -> dict[str, Any]:
    top_k = body.get("topK")
    if not isinstance(top_k, int) or not 1 <= top_k <= MAX_TOP_K:
        raise _BadRequest(f"topK must be between 1 and {MAX_TOP_K}.")
    namespace = _namespace(body.get("namespace"))
    stored = index.namespaces.get(namespace, {})
    if ("vector" in body) == ("id" in body):
        raise _BadRequest("Exactly one of vector or id must be given.")
    if "id" in body:
        if body["id"] not in stored:
            return {"results": [], "matches": [], "namespace": namespace, "usage": {"readUnits": 1}}
        query = stored[body["id"]][0]
    else:
        query = _check_values(index, body["vector"])
    flt = body.get("filter")
    candidates = [
        (vid, _score(index.metric, query, values), values, metadata)
        for vid, (values, metadata) in stored.items()
        if not flt or _matches_filter(metadata, flt)
    ]
    # Euclidean scores are distances, so smaller is closer; ties break on id for stable tests.
    ascending = index.metric == "euclidean"
    candidates.sort(key=lambda c: (c[1] if ascending else -c[1], c[0]))
    matches = []
    for vid, score, values, metadata in candidates[:top_k]:
        match: dict[str, Any] = {
            "id": vid,
            "score": score,
            "values": values if body.get("includeValues") else [],
        }
        if body.get("includeMetadata") and metadata:
            match["metadata"] = metadata
        matches.append(match)
    return {"results": [], "matches": matches, "namespace": namespace, "usage": {"readUnits": 5}}


def _delete(index: FakeIndex, body: dict[str, Any]) -> dict[str, Any]:
    namespace = _namespace(body.get("namespace"))
    stored = index.namespaces.get(namespace, {})
    if body.get("deleteAll"):
        index.namespaces.pop(namespace, None)
    elif "ids" in body:
        ids = body["ids"]
        if not isinstance(ids, list) or len(ids) > MAX_DELETE_IDS:
            raise _BadRequest(f"ids must be a list of at most {MAX_DELETE_IDS} ids.")
        for vid in ids:
            stored.pop(vid, None)
    elif body.get("filter"):
        for vid in [
            vid for vid, (_, metadata) in stored.items() if _matches_filter(metadata, body["filter"])
        ]:
            del stored[vid]
    else:
        raise _BadRequest("Delete needs ids, deleteAll or a filter.")
    return {}


def _fetch(index: FakeIndex, query: dict[str, list[str]]) -> dict[str, Any]:
    namespace = _namespace((query.get("namespace") or [""])[0])
    stored = index.namespaces.get(namespace, {})
    vectors = {}
    for vid in query.get("ids", []):
        if vid in stored:
            values, metadata = stored[vid]
            vectors[vid] = {"id": vid, "values": values, **({"metadata": metadata} if metadata else {})}
    return {"vectors": vectors, "namespace": namespace, "usage": {"readUnits": 1}}


def _list(index: FakeIndex, query: dict[str, list[str]]) -> dict[str, Any]:
    namespace = _namespace((query.get("namespace") or [""])[0])
    prefix = (query.get("prefix") or [""])[0]
    try:
        limit = int((query.get("limit") or ["100"])[0])
    except ValueError as exc:
        raise _BadRequest("limit must be an integer.") from exc
    if not 1 <= limit <= 100:
        raise _BadRequest("limit must be between 1 and 100.")
    ids = sorted(vid for vid in index.namespaces.get(namespace, {}) if vid.startswith(prefix))
    token = (query.get("paginationToken") or [None])[0]
    if token:
        after = base64.urlsafe_b64decode(token.encode()).decode()
        ids = [vid for vid in ids if vid > after]
    page = ids[:limit]
    listed: dict[str, Any] = {"vectors": [{"id": vid} for vid in page], "namespace": namespace}
    if len(ids) > limit:
        listed["pagination"] = {"next": base64.urlsafe_b64encode(page[-1].encode()).decode()}
    listed["usage"] = {"readUnits": 1}
    return listed


def _stats(index: FakeIndex, body: dict[str, Any]) -> dict[str, Any]:
    flt = body.get("filter")
    counts = {
        namespace: sum(1 for _, metadata in stored.values() if not flt or _matches_filter(metadata, flt))
        for namespace, stored in index.namespaces.items()
    }
    return {
        "namespaces": {ns: {"vectorCount": count} for ns, count in counts.items() if count},
        "dimension": index.dimension,
        "indexFullness": 0.0,
        "totalVectorCount": sum(counts.values()),
        "metric": index.metric,
        "vectorType": "dense",
    }


def _matches_filter(metadata: dict[str, Any], flt: Any) -> bool:
    if not isinstance(flt, dict):
        raise _BadRequest("A filter must be a JSON object.")
    for key, condition in flt.items():
        if key == "$and":
            if not all(_matches_filter(metadata, part) for part in condition):
                return False
        elif key == "$or":
            if not any(_matches_filter(metadata, part) for part in condition):
                return False
        else:
            # A bare value is shorthand for {"$eq": value}.
            ops = condition if isinstance(condition, dict) else {"$eq": condition}
            if not all(_compare(metadata.get(key, _MISSING), op, arg) for op, arg in ops.items()):
                return False
    return True


def _compare(value: Any, op: str, arg: Any) -> bool:
    if op == "$exists":
        return (value is not _MISSING) == bool(arg)
    if value is _MISSING:
        return op in ("$ne", "$nin")
    # A list of strings matches when any of its elements does, as in Pinecone.
    values = value if isinstance(value, list) else [value]
    if op == "$eq":
        return arg in values
    if op == "$ne":
        return arg not in values
    if op in ("$in", "$nin"):
        if not isinstance(arg, list):
            raise _BadRequest(f"{op} needs a list.")
        found = any(v in arg for v in values)
        return found if op == "$in" else not found
    comparisons = {"$gt": float.__gt__, "$gte": float.__ge__, "$lt": float.__lt__, "$lte": float.__le__}
    if op in comparisons:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        return comparisons[op](float(value), float(arg))
    raise _BadRequest(f"Unsupported filter operator {op}.")


class _Listener(ThreadingHTTPServer):
    """One origin on 127.0.0.1 (the control plane or one index's data plane)."""

    daemon_threads = True

    def __init__(self, fake: FakePineconeServer, *, index_name: str | None) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake
        self.index_name = index_name
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def origin(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        # Keep-alive connections would otherwise hold a handler thread each until they time out.
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out closes its socket while a delayed answer is being written.
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, the client's delayed ACK adds ~40 ms.
    disable_nagle_algorithm = True
    timeout = 30  # an idle keep-alive connection gives its thread back after this
    server: _Listener

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def log_message(self, format: str, *args: Any) -> None:
        """Silence per-request logging."""

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        request = RecordedRequest(
            plane="control" if self.server.index_name is None else "data",
            index=self.server.index_name,
            method=self.command,
            path=url.path,
            query=parse_qs(url.query),
            headers={name.lower(): value for name, value in self.headers.items()},
            body=body,
        )
        if raw and body is None:
            response = _error(request.plane, 400, "The request body is not valid JSON.")
        else:
            response = self.server.fake.handle(request)
        payload = b"" if response.body is None else json.dumps(response.body).encode()
        self.send_response(response.status)
        if payload:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("x-pinecone-request-id", secrets.token_hex(8))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)


@pytest.fixture
def pinecone_server() -> Iterator[FakePineconeServer]:
    """A started fake Pinecone project, stopped after the test."""
    server = FakePineconeServer().start()
    try:
        yield server
    finally:
        server.stop()
