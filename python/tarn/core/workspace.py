"""Workspace, as azureml.core.workspace.Workspace (SDK v1), served by tarnd's catalog.

config.json holds azureml's subscription_id, resource_group and workspace_name plus Tarn's
"tarn_endpoint" (e.g. "https://127.0.0.1:10001") and, optionally, "account". TARN_ENDPOINT /
TARN_ACCOUNT stand in for missing config.json keys.

Who the SDK calls tarnd as: `auth` (tarn.core.authentication's ServicePrincipalAuthentication or
InteractiveLoginAuthentication); else the sign-in `tarn login` kept; an account key only when
given (account_key=, or TARN_ACCOUNT_KEY: an administrator's path); the development key only for
a loopback endpoint.
"""

import json
import os

from tarn.core._client import Client
from tarn.core.exceptions import UserErrorException


def _find_config(path, file_name):
    """config.json from `path` (a file or a directory) upwards, in each directory and its
    .azureml/ and aml_config/: the CLI's search, the same code (tarn._native.find_config)."""
    from tarn.core._client import native_call
    return native_call("find_config", path or os.getcwd(), file_name or "")


def _connect(tarn_endpoint=None, account=None, account_key=None, auth=None):
    endpoint = tarn_endpoint or os.environ.get("TARN_ENDPOINT")
    account = account or os.environ.get("TARN_ACCOUNT")
    return Client(endpoint, account, account_key, auth)


class Workspace:
    """A named workspace in tarnd: datastores and datasets live in it.

    Workspace(subscription_id, resource_group, workspace_name) gets an existing workspace, as in
    azureml. Tarn's keyword-only extras name the server: tarn_endpoint, account, account_key
    (defaults: TARN_ENDPOINT, TARN_ACCOUNT, TARN_ACCOUNT_KEY).
    """

    def __init__(self, subscription_id, resource_group, workspace_name, auth=None,
                 _location=None, _disable_service_check=False, _workspace_id=None, sku="basic",
                 tags=None, _cloud="AzureCloud", *, tarn_endpoint=None, account=None,
                 account_key=None, _client=None, _doc=None):
        self._client = _client or _connect(tarn_endpoint, account, account_key, auth)
        doc = _doc if _doc is not None else self._get(workspace_name)
        self._set(doc)
        if subscription_id and self.subscription_id and subscription_id != self.subscription_id:
            raise UserErrorException(
                "workspace %s belongs to subscription %s, not %s"
                % (workspace_name, self.subscription_id, subscription_id), "WorkspaceMismatch")

    def _get(self, name):
        try:
            return self._client.get_workspace(name)
        except UserErrorException as e:
            if e.code != "WorkspaceNotFound":
                raise
            raise UserErrorException(
                "%s. Create it with Workspace.create(%r, ...) or `tarn workspace create %s`, or "
                "name an existing one (Workspace.list() or `tarn workspace list` shows them) in "
                "config.json's workspace_name" % (str(e).rstrip("."), name, name),
                "WorkspaceNotFound") from None

    def _set(self, doc):
        self._doc = doc
        self._workspace_name = doc.get("name")
        self._subscription_id = doc.get("subscription_id") or ""
        self._resource_group = doc.get("resource_group") or ""

    # ----- construction ---------------------------------------------------------------------
    @staticmethod
    def from_config(path=None, auth=None, _logger=None, _file_name=None):
        """Reads config.json from `path` (a file or a directory), else from the current
        directory, its .azureml/ (and aml_config/), then each parent directory the same way."""
        found = _find_config(path, _file_name)
        if not found:
            raise UserErrorException(
                "We could not find config.json in: %s or in its parent directories. Please "
                "provide the full path to the config file or ensure that config.json exists in "
                "the parent directories." % os.path.abspath(path or os.getcwd()),
                "ConfigNotFound")
        with open(found) as f:
            try:
                cfg = json.load(f)
            except ValueError as e:
                raise UserErrorException("%s is not valid JSON: %s" % (found, e),
                                         "BadConfig") from None
        for key in ("workspace_name",):
            if not cfg.get(key):
                raise UserErrorException("%s lacks %s" % (found, key), "BadConfig")
        return Workspace(cfg.get("subscription_id"), cfg.get("resource_group"),
                         cfg["workspace_name"], auth, tarn_endpoint=cfg.get("tarn_endpoint"),
                         account=cfg.get("account"))

    @staticmethod
    def create(name, auth=None, subscription_id=None, resource_group=None, location=None,
               create_resource_group=True, sku="basic", tags=None, friendly_name=None,
               storage_account=None, key_vault=None, app_insights=None, container_registry=None,
               adb_workspace=None, primary_user_assigned_identity=None, cmk_keyvault=None,
               resource_cmk_uri=None, hbi_workspace=False, default_cpu_compute_target=None,
               default_gpu_compute_target=None, private_endpoint_config=None,
               private_endpoint_auto_approval=True, exist_ok=False, show_output=True,
               user_assigned_identity_for_cmk_encryption=None,
               system_datastores_auth_mode="accessKey", v1_legacy_mode=None, *,
               tarn_endpoint=None, account=None, account_key=None):
        """Creates the workspace; with exist_ok=True an existing one of the same subscription
        and resource group is returned. Azure-only arguments are accepted and ignored."""
        client = _connect(tarn_endpoint, account, account_key, auth)
        if not exist_ok:
            try:
                client.get_workspace(name)
            except UserErrorException as e:
                if e.code != "WorkspaceNotFound":
                    raise
            else:
                raise UserErrorException("workspace %s already exists (pass exist_ok=True to "
                                         "use it)" % name, "WorkspaceAlreadyExists")
        doc = client.create_workspace(name, subscription_id or "", resource_group or "",
                                      friendly_name or "")
        return Workspace(subscription_id, resource_group, name, _client=client, _doc=doc)

    @staticmethod
    def get(name, auth=None, subscription_id=None, resource_group=None, location=None,
            cloud="AzureCloud", id=None, *, tarn_endpoint=None, account=None,
            account_key=None):
        return Workspace(subscription_id, resource_group, name, auth, tarn_endpoint=tarn_endpoint,
                         account=account, account_key=account_key)

    @staticmethod
    def list(subscription_id=None, auth=None, resource_group=None, *, tarn_endpoint=None,
             account=None, account_key=None):
        """{name: [Workspace]} of the server's workspaces, filtered as given."""
        client = _connect(tarn_endpoint, account, account_key, auth)
        out = {}
        for doc in client.list_workspaces().get("workspaces", []):
            if subscription_id and doc.get("subscription_id") != subscription_id:
                continue
            if resource_group and doc.get("resource_group") != resource_group:
                continue
            out.setdefault(doc["name"], []).append(
                Workspace(doc.get("subscription_id"), doc.get("resource_group"), doc["name"],
                          _client=client, _doc=doc))
        return out

    # ----- attributes -----------------------------------------------------------------------
    @property
    def name(self):
        return self._workspace_name

    @property
    def subscription_id(self):
        return self._subscription_id

    @property
    def resource_group(self):
        return self._resource_group

    @property
    def location(self):
        return "tarn"

    @property
    def tarn_endpoint(self):
        return self._client.endpoint

    @property
    def datastores(self):
        """{name: Datastore} of every datastore of the workspace."""
        from tarn.core.datastore import Datastore
        docs = self._client.list_datastores(self.name).get("datastores", [])
        return {d["name"]: Datastore._from_doc(self, d) for d in docs}

    @property
    def datasets(self):
        """{name: dataset} of the latest version of every registered dataset."""
        from tarn.core.dataset import Dataset
        return Dataset.get_all(self)

    def get_default_datastore(self):
        from tarn.core.datastore import Datastore
        return Datastore.get_default(self)

    def set_default_datastore(self, name):
        self._set(self._client.set_default_datastore(self.name, name))

    def get_details(self):
        return dict(self._client.get_workspace(self.name))

    def delete(self, delete_dependent_resources=False, no_wait=False):
        """Deletes the workspace with its datastores and datasets; lake data stays."""
        self._client.delete_workspace(self.name)

    def write_config(self, path=None, file_name=None):
        """Writes config.json (into path/.azureml/ by default), with Tarn's endpoint."""
        d = os.path.join(path or os.getcwd(), ".azureml")
        os.makedirs(d, exist_ok=True)
        cfg = {"subscription_id": self.subscription_id, "resource_group": self.resource_group,
               "workspace_name": self.name, "tarn_endpoint": self._client.endpoint,
               "account": self._client.account}
        with open(os.path.join(d, file_name or "config.json"), "w") as f:
            json.dump(cfg, f, indent=2)

    def __repr__(self):
        return ("Workspace.create(name='%s', subscription_id='%s', resource_group='%s')"
                % (self.name, self.subscription_id, self.resource_group))

    def __eq__(self, other):
        return (isinstance(other, Workspace) and other.name == self.name
                and other._client.endpoint == self._client.endpoint)

    def __hash__(self):
        return hash((self.name, self._client.endpoint))
