"""tarnd over plain HTTPS with the bearer tokens a submitted run is given, for Run.get_context()
inside the run: no native extension, since not every interpreter a run uses can load it.

It has the native client's `tracking`, `tracking_bytes` and `workspace_api` methods (same
arguments, same answers, errors as the SDK's exceptions), and nothing else. The environment
tarnd gives a run names everything:

    MLFLOW_TRACKING_URI               https://HOST:PORT/workspaces/<ws>/mlflow
    MLFLOW_TRACKING_TOKEN             a tracking-audience token, valid while the run is active
    MLFLOW_TRACKING_SERVER_CERT_PATH  the CA to trust
    TARN_ENDPOINT, TARN_WORKSPACE_TOKEN, TARN_CA_FILE   the same for the workspace API
"""

from __future__ import annotations

import json
import os
import re
import ssl
import urllib.error
import urllib.parse
import urllib.request
from typing import Optional

from tarn.core.exceptions import TarnConnectionError, TarnError, UserErrorException

_TIMEOUT_S = 60


class TokenClient:
    """Calls one tarnd with bearer tokens: tracking_uri/tracking_token for MLflow's API,
    endpoint/workspace_token for the workspace API."""

    def __init__(self, tracking_uri: str, tracking_token: str, ca_file: Optional[str] = None,
                 endpoint: Optional[str] = None, workspace_token: Optional[str] = None,
                 workspace_ca_file: Optional[str] = None) -> None:
        self.tracking_uri = tracking_uri.rstrip("/")
        self.endpoint = (endpoint or "").rstrip("/") or None
        self._tracking_token = tracking_token
        self._workspace_token = workspace_token
        self._tracking_tls = _tls(ca_file)
        self._workspace_tls = _tls(workspace_ca_file or ca_file)

    @staticmethod
    def from_run_environment(environ=None) -> "TokenClient":
        e = os.environ if environ is None else environ
        return TokenClient(e["MLFLOW_TRACKING_URI"], e["MLFLOW_TRACKING_TOKEN"],
                           e.get("MLFLOW_TRACKING_SERVER_CERT_PATH") or e.get("TARN_CA_FILE"),
                           e.get("TARN_ENDPOINT"), e.get("TARN_WORKSPACE_TOKEN"),
                           e.get("TARN_CA_FILE"))

    @property
    def workspace_name(self) -> Optional[str]:
        """The workspace the tracking URI names."""
        m = re.search(r"/workspaces/([^/]+)/mlflow$", self.tracking_uri)
        return urllib.parse.unquote(m.group(1)) if m else None

    def tracking(self, method, ws, rpc, body=None, query=None):
        """MLflow's REST call `rpc` (e.g. "runs/get") of the tracking URI's workspace."""
        return _call(method, f"{self.tracking_uri}/api/2.0/mlflow/{rpc}", body, query,
                     self._tracking_token, self._tracking_tls)

    def tracking_bytes(self, method, ws, path, body=None, query=None) -> bytes:
        """A call of the tracking URI's /api/2.0/<path> that carries bytes (an artifact's
        "mlflow-artifacts/artifacts/<path>"): body bytes or None; the answer's bytes."""
        url = f"{self.tracking_uri}/api/2.0/{urllib.parse.quote(path)}"
        return _send(method, url, body, "application/octet-stream", query, self._tracking_token,
                     self._tracking_tls)

    def workspace_api(self, method, ws, subpath, body=None, query=None):
        """A call of /workspaces/<ws>/<subpath> (e.g. "jobs/<run id>")."""
        if not self.endpoint or not self._workspace_token:
            raise UserErrorException("this run was given no workspace API token "
                                     "(TARN_ENDPOINT, TARN_WORKSPACE_TOKEN)", "NoRunContext")
        url = f"{self.endpoint}/workspaces/{urllib.parse.quote(ws, safe='')}/{subpath}"
        return _call(method, url, body, query, self._workspace_token, self._workspace_tls)


def _tls(ca_file):
    return ssl.create_default_context(cafile=ca_file or None)


def _call(method, url, body, query, token, tls):
    data = None if body is None else json.dumps(body).encode("utf-8")
    text = _send(method, url, data, "application/json", query, token, tls,
                 accept="application/json").decode("utf-8")
    return json.loads(text) if text.strip() else {}


def _send(method, url, data, content_type, query, token, tls, accept=None) -> bytes:
    if query:
        url += "?" + urllib.parse.urlencode({k: str(v) for k, v in query.items()})
    headers = {"Authorization": "Bearer " + token}
    if accept:
        headers["Accept"] = accept
    if data is not None:
        headers["Content-Type"] = content_type
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=_TIMEOUT_S, context=tls) as resp:
            return resp.read()
    except urllib.error.HTTPError as e:
        raise _error(method, url, e.code, e.headers.get("x-ms-error-code"),
                     e.read().decode("utf-8", "replace")) from None
    except (urllib.error.URLError, OSError) as e:
        raise TarnConnectionError(f"{method} {url.split('?')[0]} failed: {e}",
                                  "Unavailable") from None


def _error(method, url, status, header_code, text):
    """The native client's reading of an error answer: x-ms-error-code, else the JSON's
    {"error": {"code", "message"}} or MLflow's {"error_code", "message"}."""
    code, message = header_code or "", ""
    try:
        doc = json.loads(text)
    except ValueError:
        doc = None
    if isinstance(doc, dict) and isinstance(doc.get("error"), dict):
        code = code or doc["error"].get("code", "")
        message = doc["error"].get("message", "")
    elif isinstance(doc, dict) and "error_code" in doc:
        code = code or doc["error_code"]
        message = doc.get("message", "")
    else:
        m = re.search(r"<Message>(.*?)</Message>", text, re.S)
        message = m.group(1) if m else text.strip()[:500]
    code = code or f"HttpStatus{status}"
    message = f"{code}: {message or method + ' ' + url.split('?')[0] + ' failed'} (HTTP {status})"
    if status >= 500:
        return TarnError(message, code)
    return UserErrorException(message, code)
