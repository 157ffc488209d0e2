"""A fake OpenAI-compatible provider on a local HTTP server thread (we do not own the real
one): records every request body, answers with what the test queues."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    content: str = ""
    status: int = 200
    raw: bytes | None = None  # sent as is instead of a chat-completions body
    delay: float = 0.0


class FakeProvider:
    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.replies: list[Reply] = []
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                provider.requests.append(
                    {
                        "path": self.path,
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "body": body,
                    }
                )
                reply = provider.replies.pop(0) if provider.replies else Reply("No reply queued.")
                if reply.delay:
                    time.sleep(reply.delay)
                payload = reply.raw
                if payload is None:
                    payload = json.dumps(
                        {"choices": [{"message": {"role": "assistant", "content": reply.content}}]}
                    ).encode()
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def reply(self, content: str = "", **kwargs) -> None:
        self.replies.append(Reply(content, **kwargs))

    def prompt(self, index: int = -1) -> str:
        """The user message of a recorded request."""
        return self.requests[index]["body"]["messages"][-1]["content"]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
