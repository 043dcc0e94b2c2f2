"""A small raw-HTTP client with an Azure Storage Shared Key signer, for the bad-input tests.

String-to-sign (Blob and DFS), per reference/adls-protocol.md:

    VERB \\n Content-Encoding \\n Content-Language \\n Content-Length (empty if 0) \\n Content-MD5 \\n
    Content-Type \\n Date \\n If-Modified-Since \\n If-Match \\n If-None-Match \\n If-Unmodified-Since \\n
    Range \\n <x-ms-* headers, lowercased, sorted, "name:value\\n"> /<account><raw URI path>
    [\\n<lowercased query name>:<decoded values, sorted, comma-joined>]...

With path-style URLs the URI path already starts with /<account>, so the account appears twice.
The path is signed exactly as it is sent (still percent-encoded).
"""

import base64
import email.utils
import hashlib
import hmac
import http.client
import socket
import urllib.parse
import uuid

ACCOUNT = "devstoreaccount1"
ACCOUNT_KEY = ("Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/"
               "K1SZFPTOtr/KBHBeksoGMGw==")

X_MS_VERSION = "2021-08-06"

_STANDARD = ("content-encoding", "content-language", "content-length", "content-md5",
             "content-type", "date", "if-modified-since", "if-match", "if-none-match",
             "if-unmodified-since", "range")


def string_to_sign(method, raw_path, query_pairs, headers, account=ACCOUNT):
    """headers: dict (any case). query_pairs: list of (name, value) *decoded* strings."""
    h = {k.lower(): str(v) for k, v in headers.items()}
    parts = [method.upper()]
    for name in _STANDARD:
        v = h.get(name, "")
        if name == "content-length" and v == "0":
            v = ""
        parts.append(v)
    xms = sorted((k, v.strip()) for k, v in h.items() if k.startswith("x-ms-"))
    canon_headers = "".join(f"{k}:{v}\n" for k, v in xms)
    resource = f"/{account}{raw_path}"
    grouped = {}
    for k, v in query_pairs:
        grouped.setdefault(k.lower(), []).append(v)
    for k in sorted(grouped):
        resource += f"\n{k}:{','.join(sorted(grouped[k]))}"
    return "\n".join(parts) + "\n" + canon_headers + resource


def sign(method, raw_path, query_pairs, headers, account=ACCOUNT, key=ACCOUNT_KEY):
    sts = string_to_sign(method, raw_path, query_pairs, headers, account)
    # Raw bytes that are not UTF-8 travel as surrogate escapes (see raw_request_bytes).
    digest = hmac.new(base64.b64decode(key), sts.encode("utf-8", "surrogateescape"),
                      hashlib.sha256).digest()
    return f"SharedKey {account}:{base64.b64encode(digest).decode()}"


class Response:
    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers  # list of (name, value)
        self.body = body

    def header(self, name, default=None):
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return default

    @property
    def error_code(self):
        return self.header("x-ms-error-code")

    def __repr__(self):
        hdrs = "".join(f"\n  {k}: {v}" for k, v in self.headers)
        body = self.body[:600]
        return f"<HTTP {self.status} {self.reason}{hdrs}\n  body={body!r}>"


def build_query(query_pairs):
    """Encodes (name, value) pairs for the wire."""
    return "&".join(f"{urllib.parse.quote(k, safe='')}="
                    f"{urllib.parse.quote(v, safe='', errors='surrogateescape')}"
                    for k, v in query_pairs)


class RawClient:
    """Signs and sends single requests with http.client. Paths are sent exactly as given
    (so tests can send '.', '..', %FF, very long names ...)."""

    def __init__(self, server, account=ACCOUNT, key=ACCOUNT_KEY, timeout=30):
        """server: a URL string, or an object with a .url attribute (followed across
        restarts, whose port changes)."""
        self.server = server
        self.account = account
        self.key = key
        self.timeout = timeout

    @property
    def _url(self):
        return urllib.parse.urlsplit(self.server if isinstance(self.server, str)
                                     else self.server.url)

    @property
    def host(self):
        return self._url.hostname

    @property
    def port(self):
        return self._url.port

    def prepare(self, method, raw_path, query=(), headers=None, body=b"", sign_with=None,
                content_length=True):
        """Returns (target, headers dict) with the Authorization header computed."""
        query = list(query)
        hdrs = {
            "x-ms-version": X_MS_VERSION,
            "x-ms-date": email.utils.formatdate(usegmt=True),
            "x-ms-client-request-id": str(uuid.uuid4()),
        }
        if content_length:
            hdrs["Content-Length"] = str(len(body))
        for k, v in (headers or {}).items():
            if v is None:
                hdrs.pop(k, None)
            else:
                hdrs[k] = v
        if sign_with is not False:
            key = self.key if sign_with is None else sign_with
            hdrs["Authorization"] = sign(method, raw_path, query, hdrs, self.account, key)
        target = raw_path + ("?" + build_query(query) if query else "")
        return target, hdrs

    def request(self, method, raw_path, query=(), headers=None, body=b"", sign_with=None,
                content_length=True):
        target, hdrs = self.prepare(method, raw_path, query, headers, body, sign_with,
                                    content_length)
        return self.send(method, target, hdrs, body)

    def send(self, method, target, hdrs, body=b"", conn=None):
        """Sends an already prepared request (tests may tamper with it after signing). With
        conn (an open http.client.HTTPConnection) the connection is reused (keep-alive);
        without, a fresh one is opened and closed."""
        own = conn is None
        if own:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            conn.putrequest(method, target, skip_host=False, skip_accept_encoding=True)
            for k, v in hdrs.items():
                conn.putheader(k, v)
            conn.endheaders()
            if body:
                conn.send(body)
            resp = conn.getresponse()
            return Response(resp.status, resp.reason, resp.getheaders(), resp.read())
        finally:
            if own:
                conn.close()

    def connection(self):
        """A keep-alive connection for send(..., conn=...)."""
        return http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)

    def get(self, raw_path, conn=None, headers=None):
        target, hdrs = self.prepare("GET", raw_path, headers=headers)
        return self.send("GET", target, hdrs, conn=conn)

    def raw_exchange(self, request_bytes, read_timeout=None, shutdown_write=False):
        """Sends raw bytes on a fresh socket and returns (status, headers, body, raw) of the
        first response, or raises ConnectionError if the server sent no response."""
        s = socket.create_connection((self.host, self.port), timeout=self.timeout)
        try:
            s.settimeout(read_timeout or self.timeout)
            try:
                s.sendall(request_bytes)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server may answer and close before reading everything
            if shutdown_write:
                try:
                    s.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
            chunks = []
            try:
                while True:
                    c = s.recv(65536)
                    if not c:
                        break
                    chunks.append(c)
                    if _complete_response(b"".join(chunks)):
                        break
            except ConnectionResetError:
                pass
            except socket.timeout:
                pass
            raw = b"".join(chunks)
        finally:
            s.close()
        return parse_raw_response(raw)


def _complete_response(raw):
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        k = k.strip().lower()
        if k == b"content-length":
            try:
                return len(body) >= int(v.strip())
            except ValueError:
                return False
        if k == b"transfer-encoding" and b"chunked" in v.lower():
            return body.endswith(b"0\r\n\r\n")
    return False


def _dechunk(body):
    out = bytearray()
    while body:
        size_line, _, rest = body.partition(b"\r\n")
        try:
            size = int(size_line.split(b";")[0].strip(), 16)
        except ValueError:
            return bytes(out)
        if size == 0:
            break
        out += rest[:size]
        body = rest[size + 2:]
    return bytes(out)


def parse_raw_response(raw):
    if not raw:
        raise ConnectionError("server closed the connection without sending a response")
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("iso-8859-1").split("\r\n")
    status_line = lines[0].split(" ", 2)
    if len(status_line) < 2 or not status_line[0].startswith("HTTP/"):
        raise ConnectionError(f"malformed response: {raw[:200]!r}")
    headers = []
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers.append((k.strip(), v.strip()))
    if any(k.lower() == "transfer-encoding" and "chunked" in v.lower() for k, v in headers):
        body = _dechunk(body)
    return Response(int(status_line[1]), status_line[2] if len(status_line) > 2 else "",
                    headers, body)
