"""A TLS-terminating reverse proxy on 127.0.0.1, as nginx is in front of the app in production (docs/deploy.md):
it takes HTTPS from the browser and passes each request on over plain HTTP with `X-Forwarded-For` and
`X-Forwarded-Proto: https` added, the headers gunicorn trusts from `FORWARDED_ALLOW_IPS`.

Standard library only, one request per connection (`Connection: close` both ways), enough for a browser test.
The certificate is a throw-away self-signed one made with the openssl command; the browser context is told to
accept it.
"""

from __future__ import annotations

import socket
import ssl
import subprocess
import threading
from pathlib import Path

HEAD_LIMIT = 64 * 1024


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate and key for 127.0.0.1, valid for a day."""
    cert, key = folder / "proxy.crt", folder / "proxy.key"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],  # fmt: skip
        check=True,
        capture_output=True,
    )
    return cert, key


def _read_head(stream: socket.socket) -> tuple[bytes, bytes]:
    """The request head (up to and without the blank line) and whatever of the body came with it."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = stream.recv(65536)
        if not chunk:
            break
        data += chunk
        if len(data) > HEAD_LIMIT:
            break
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def _forwarded_head(head: bytes, client: str) -> tuple[bytes, int]:
    lines = head.split(b"\r\n")
    kept = [lines[0]]
    length = 0
    for line in lines[1:]:
        name = line.split(b":", 1)[0].strip().lower()
        if name in (b"connection", b"keep-alive", b"x-forwarded-for", b"x-forwarded-proto"):
            continue  # hop-by-hop, and what only the proxy may say
        if name == b"content-length":
            length = int(line.split(b":", 1)[1])
        kept.append(line)
    kept += [b"X-Forwarded-For: " + client.encode(), b"X-Forwarded-Proto: https", b"Connection: close"]
    return b"\r\n".join(kept) + b"\r\n\r\n", length


class TlsProxy:
    """`https://127.0.0.1:<port>` in front of `upstream` (host, port)."""

    def __init__(self, upstream: tuple[str, int], cert: Path, key: Path):
        self.upstream = upstream
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.context.load_cert_chain(cert, key)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.url = f"https://127.0.0.1:{self.port}"
        self._stopping = False
        self._thread = threading.Thread(target=self._serve, name="tls-proxy", daemon=True)

    def start(self) -> TlsProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping = True
        self.listener.close()
        self._thread.join(timeout=5)

    def _serve(self) -> None:
        while not self._stopping:
            try:
                raw, address = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(raw, address[0]), daemon=True).start()

    def _handle(self, raw: socket.socket, client: str) -> None:
        try:
            with self.context.wrap_socket(raw, server_side=True) as secure:
                head, body = _read_head(secure)
                if not head:
                    return
                forwarded, length = _forwarded_head(head, client)
                while len(body) < length:
                    chunk = secure.recv(65536)
                    if not chunk:
                        break
                    body += chunk
                with socket.create_connection(self.upstream) as upstream:
                    upstream.sendall(forwarded + body)
                    while chunk := upstream.recv(65536):
                        secure.sendall(chunk)
        except (OSError, ssl.SSLError):
            pass  # a browser dropping a connection it no longer needs
        finally:
            raw.close()
