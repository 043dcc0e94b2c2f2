"""The /identity admin API (docs/identity-api.md) for tests and benchmarks: a tenant, service
principals with a secret, and role assignments, signed with the account key."""

import json

from sharedkey import RawClient


class Directory:
    """The /identity admin API, signed with the account key."""

    def __init__(self, server):
        self.raw = RawClient(server)

    def call(self, method, path, body=None, expect=None):
        data = json.dumps(body).encode() if body is not None else b""
        r = self.raw.request(method, "/identity" + path, (),
                             {"Content-Type": "application/json"}, data)
        if expect is not None:
            assert r.status == expect, r
        return json.loads(r.body) if r.body else None

    def tenant(self):
        return self.call("POST", "/tenants", {"display_name": "contoso"}, 201)["tenant_id"]

    def service_principal(self, tenant, name="trainer"):
        sp = self.call("POST", f"/tenants/{tenant}/principals",
                       {"kind": "service_principal", "display_name": name}, 201)
        sp["secret"] = self.call("POST", f"/principals/{sp['object_id']}/secrets",
                                 {"expires_in_days": 30}, 201)["secret"]
        return sp

    def assign(self, principal, role, scope):
        return self.call("POST", "/role-assignments",
                         {"principal_id": principal, "role": role, "scope": scope}, 201)
