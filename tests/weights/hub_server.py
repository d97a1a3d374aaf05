"""A small Hugging Face Hub stand-in on 127.0.0.1 for tests: it answers the file endpoint `hf_hub_download`
uses in huggingface_hub 2.x (HEAD/GET `/{org}/{name}/resolve/{revision}/{filename}`) from repositories the
test defines, and records every request so tests can prove a cached run made none.

Headers follow the real Hub: `X-Repo-Commit` and `ETag` on every file; for large (LFS) files also
`X-Linked-Etag` (the sha256) and `X-Linked-Size`, which the library prefers. The real Hub answers HEAD for
an LFS file with a redirect to a CDN host, which huggingface_hub does not follow (the metadata is on the
redirect itself); answering 200 with the same headers gives it the same metadata. Errors carry
`X-Error-Code` (RepoNotFound, RevisionNotFound, EntryNotFound), which the library turns into typed errors.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Literal
from urllib.parse import unquote, urlsplit

Fault = Literal["tampered", "short"]


@dataclass
class Repo:
    """One model repository: a single commit, reachable as `main` or by its sha."""

    commit: str
    files: dict[str, bytes]
    faults: dict[str, Fault] = field(default_factory=dict)


class LocalHub:
    """Threaded HTTP server bound to 127.0.0.1 on a free port; use as a context manager."""

    def __init__(self) -> None:
        self.repos: dict[str, Repo] = {}
        self.requests: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """Base URL to use as HF_ENDPOINT."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def add_repo(self, repo_id: str, files: dict[str, bytes]) -> str:
        """Publish `files` as `repo_id`; returns the commit sha (derived from the content)."""
        digest = hashlib.sha1(repo_id.encode())
        for name in sorted(files):
            digest.update(name.encode() + hashlib.sha256(files[name]).digest())
        self.repos[repo_id] = Repo(commit=digest.hexdigest(), files=dict(files))
        return self.repos[repo_id].commit

    def count(self) -> int:
        """Number of requests answered so far."""
        with self._lock:
            return len(self.requests)

    def record(self, method: str, path: str) -> None:
        with self._lock:
            self.requests.append((method, path))

    def __enter__(self) -> LocalHub:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def _served(repo: Repo, name: str) -> tuple[bytes, bytes]:
    """(bytes announced by HEAD, bytes sent by GET) for a file, after its fault if any."""
    data = repo.files[name]
    fault = repo.faults.get(name)
    if fault == "tampered":  # announced as the real file (same ETag and size), last byte flipped underway
        return data, data[:-1] + bytes([data[-1] ^ 0xFF])
    if fault == "short":  # HEAD announces the whole file, GET stops halfway
        return data, data[: len(data) // 2]
    return data, data


def _handler(hub: LocalHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
            return

        def _error(self, code: str, commit: str | None = None) -> None:
            self.send_response(404)
            self.send_header("X-Error-Code", code)
            if commit:
                self.send_header("X-Repo-Commit", commit)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def _answer(self, with_body: bool) -> None:
            path = urlsplit(self.path).path
            hub.record(self.command, path)
            parts = path.strip("/").split("/")
            if len(parts) < 5 or parts[2] != "resolve":
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            repo_id, revision = f"{parts[0]}/{parts[1]}", unquote(parts[3])
            name = unquote("/".join(parts[4:]))
            repo = hub.repos.get(repo_id)
            if repo is None:
                return self._error("RepoNotFound")
            if revision not in ("main", repo.commit):
                return self._error("RevisionNotFound")
            if name not in repo.files:
                return self._error("EntryNotFound", repo.commit)
            announced, sent = _served(repo, name)
            self.send_response(200)
            self.send_header("X-Repo-Commit", repo.commit)
            if name.endswith(".safetensors"):  # stored in LFS on the real Hub
                sha = hashlib.sha256(announced).hexdigest()
                self.send_header("ETag", f'"{sha}"')
                self.send_header("X-Linked-Etag", f'"{sha}"')
                self.send_header("X-Linked-Size", str(len(announced)))
            else:
                self.send_header("ETag", f'"{hashlib.sha1(announced).hexdigest()}"')
            self.send_header("Content-Length", str(len(sent) if with_body else len(announced)))
            self.end_headers()
            if with_body:
                self.wfile.write(sent)

        def do_HEAD(self) -> None:  # noqa: N802 (http.server's naming)
            self._answer(with_body=False)

        def do_GET(self) -> None:  # noqa: N802
            self._answer(with_body=True)

    return Handler
