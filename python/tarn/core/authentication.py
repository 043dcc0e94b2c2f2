"""Authentication, as azureml.core.authentication: who the SDK calls tarnd as.

- ``ServicePrincipalAuthentication(tenant_id, service_principal_id, service_principal_password)``:
  an application's client secret, exchanged at tarnd's token service for bearer tokens.
- ``InteractiveLoginAuthentication(tenant_id=...)``: a person. The sign-in ``tarn login`` keeps
  (``~/.tarn/login.json``) is used; without one, the device code flow runs once: open the page it
  names, enter the code, sign in. The sign-in is then kept for the CLI and the SDK alike.

Both need tarnd's https endpoint (``"tarn_endpoint": "https://HOST:PORT"`` in config.json), since
tokens travel only over TLS. Tarn's keyword-only extras: ``endpoint`` (the token service, default
the workspace's endpoint) and ``ca_file`` (PEM certificates to trust, default TARN_CA_FILE or
REQUESTS_CA_BUNDLE; for tarnd's own certificate, its DIR/tls/cert.pem).
"""

import os
import sys

from tarn.core.exceptions import UserErrorException


def _default_ca(ca_file):
    return ca_file or os.environ.get("TARN_CA_FILE") or os.environ.get("REQUESTS_CA_BUNDLE") or ""


def _require_https(endpoint, what):
    if not endpoint or not endpoint.startswith("https://"):
        raise UserErrorException(
            "%s needs tarnd's https endpoint, since tokens travel only over TLS: put "
            "\"tarn_endpoint\": \"https://HOST:PORT\" in config.json (tarnd prints it when it "
            "starts)%s" % (what, "" if not endpoint else "; %s is not https" % endpoint),
            "HttpsRequired")


class AbstractAuthentication:
    """Base of the SDK's authentication classes."""

    def _native_auth(self, endpoint):  # pragma: no cover - overridden
        raise NotImplementedError

    def _endpoint(self, configured):
        """The endpoint to call tarnd at, given the configured one."""
        return configured


class ServicePrincipalAuthentication(AbstractAuthentication):
    """A service principal's client secret (as azureml's).

    ``cloud`` and ``_enable_caching`` are accepted for compatibility: tokens are cached in
    memory and renewed before they expire."""

    def __init__(self, tenant_id, service_principal_id, service_principal_password,
                 cloud="AzureCloud", _enable_caching=True, *, endpoint=None, ca_file=None):
        for name, value in (("tenant_id", tenant_id), ("service_principal_id", service_principal_id),
                            ("service_principal_password", service_principal_password)):
            if not value:
                raise UserErrorException("ServicePrincipalAuthentication needs %s" % name,
                                         "BadAuthentication")
        self.tenant_id = tenant_id
        self.service_principal_id = service_principal_id
        self._secret = service_principal_password
        self._authority = endpoint
        self._ca_file = ca_file

    def __repr__(self):  # never the secret
        return "ServicePrincipalAuthentication(tenant_id=%r, service_principal_id=%r)" % (
            self.tenant_id, self.service_principal_id)

    def _native_auth(self, endpoint):
        authority = self._authority or endpoint
        _require_https(authority, "ServicePrincipalAuthentication")
        return {"kind": "service_principal", "authority": authority, "tenant": self.tenant_id,
                "client_id": self.service_principal_id, "secret": self._secret,
                "ca_file": _default_ca(self._ca_file)}


class InteractiveLoginAuthentication(AbstractAuthentication):
    """A person signed in: the kept ``tarn login`` sign-in, else the device code flow once.

    ``force=True`` signs in again even when a sign-in is kept."""

    def __init__(self, force=False, tenant_id=None, cloud=None, *, endpoint=None, ca_file=None,
                 _login_dir=None, _prompt=None):
        self.tenant_id = tenant_id
        self._force = force
        self._authority = endpoint
        self._ca_file = ca_file
        self._dir = _login_dir or ""
        self._prompt = _prompt or (lambda message: print(message, file=sys.stderr, flush=True))
        self._login = None

    def _ensure(self, endpoint):
        from tarn.core._client import native_call
        login = None if self._force else native_call("read_login", self._dir)
        if login and self.tenant_id and login["tenant"] != self.tenant_id:
            login = None  # kept for another tenant: sign in to this one
        if login is None:
            authority = self._authority or endpoint
            _require_https(authority, "InteractiveLoginAuthentication")
            if not self.tenant_id:
                raise UserErrorException(
                    "not signed in: run `tarn login --tenant TENANT`, or pass "
                    "InteractiveLoginAuthentication(tenant_id=TENANT)", "NotSignedIn")
            login = native_call("device_login", authority, self.tenant_id, self._prompt,
                                ca_file=_default_ca(self._ca_file), dir=self._dir)
            self._force = False
        self._login = login
        return login

    def _endpoint(self, configured):
        login = self._ensure(configured)
        if configured and configured.startswith("https://"):
            return configured
        # The kept sign-in's https endpoint stands in for a plain-http one of the same host.
        import urllib.parse
        if configured and (urllib.parse.urlsplit(configured).hostname !=
                           urllib.parse.urlsplit(login["endpoint"]).hostname):
            raise UserErrorException(
                "the kept sign-in is for %s, and the endpoint given is %s: sign in there with "
                "`tarn login --endpoint https://HOST:PORT`, or give that https endpoint"
                % (login["endpoint"], configured), "NotSignedIn")
        return login["endpoint"]

    def _native_auth(self, endpoint):
        if self._login is None:
            self._ensure(endpoint)
        return {"kind": "login", "dir": self._dir}

    @property
    def username(self):
        return self._login["username"] if self._login else None
