"""The connection to tarnd: the native client, and native errors turned into SDK exceptions."""

import functools
import os

from tarn.core.exceptions import (DataReadError, DatasetDriftError, TarnConnectionError,
                                  TarnError, UserErrorException)


def _native():
    try:
        from tarn import _native
    except ImportError as e:  # pragma: no cover - a build problem, said plainly
        raise TarnError("the extension tarn._native is not built or not on PYTHONPATH "
                        "(see docs/sdk.md): %s" % e, code="NoExtension") from e
    return _native


def native_call(name, *args, **kwargs):
    """A function of tarn._native, its CatalogError re-raised as the SDK's exception."""
    native = _native()
    try:
        return getattr(native, name)(*args, **kwargs)
    except native.CatalogError as e:
        raise convert(e) from None


def convert(err):
    """A native CatalogError as the SDK's exception."""
    server_code, message, status = (list(err.args) + ["", "", ""])[:3]
    if server_code == "DatasetDrift":
        return DatasetDriftError(message, server_code)
    if server_code == "DataReadFailed" or (not server_code and status == "FailedPrecondition"):
        return DataReadError(message, server_code or "DataReadFailed")
    if status == "Unavailable" and not server_code:
        return TarnConnectionError(message, "Unavailable")
    if server_code or status in ("InvalidArgument", "NotFound", "AlreadyExists", "Conflict",
                                 "PermissionDenied", "Unauthenticated"):
        return UserErrorException(message, server_code or status)
    return TarnError(message, server_code or status)


class Client:
    """The native client, every call's CatalogError re-raised as the SDK's exception."""

    def __init__(self, endpoint, account=None, account_key=None, auth=None):
        """Calls tarnd as, in order: the account key given as account_key; `auth`; the key in
        TARN_ACCOUNT_KEY (an administrator's path); the sign-in `tarn login` kept; the
        development key, for a loopback endpoint only."""
        native = _native()
        key = account_key or (None if auth is not None else os.environ.get("TARN_ACCOUNT_KEY"))
        native_auth = None
        if not key:
            if auth is None:
                kept = native_call("read_login")
                if kept is not None:
                    from tarn.core.authentication import InteractiveLoginAuthentication
                    auth = InteractiveLoginAuthentication()
            if auth is not None:
                endpoint = auth._endpoint(endpoint)
        if not endpoint:
            raise UserErrorException(
                "no tarnd endpoint: put \"tarn_endpoint\" in config.json or set TARN_ENDPOINT",
                "NoEndpoint")
        if not key:
            if auth is not None:
                native_auth = auth._native_auth(endpoint)
            else:
                # The development key, for a loopback endpoint only (the CLI's rule, the same
                # code: tarn._native.development_key).
                key = native.development_key(endpoint)
                if key is None:
                    raise UserErrorException(
                        "not signed in: run `tarn login`, or pass auth="
                        "InteractiveLoginAuthentication(tenant_id=...) or auth="
                        "ServicePrincipalAuthentication(...) (the development key is only used "
                        "for loopback endpoints, and %s is not one)" % endpoint, "NotSignedIn")
        self._error = native.CatalogError
        self.endpoint = endpoint
        self.auth = auth if native_auth else None
        try:
            self._c = native.Client(endpoint, account or "", key or "", auth=native_auth)
        except native.CatalogError as e:
            raise convert(e) from None

    @property
    def account(self):
        return self._c.account

    @property
    def account_url(self):
        return self._c.account_url

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        fn = getattr(self._c, name)
        error = self._error

        @functools.wraps(fn)
        def call(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except error as e:
                raise convert(e) from None
        return call
