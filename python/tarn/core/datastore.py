"""Datastore, as azureml.core.datastore.Datastore (SDK v1): lake locations plus credentials,
registered in a workspace of tarnd.

Every datastore is an ADLS Gen2-compatible filesystem (tarnd serves Blob and DFS on one port):
- register_azure_data_lake: `store_name` names a filesystem on the workspace's own tarnd account
  (the Gen1 "store" becomes a Tarn filesystem). tenant_id/client_id/client_secret register a
  service principal of tarnd's directory: tarnd gets a token for it from its own token service
  and checks that it may list the filesystem (a role or the ACLs) before registering anything;
  Tarn's keyword-only account_key= / sas_token= register a key or SAS instead; with none of them
  the datastore uses the caller's identity.
- register_azure_data_lake_gen2: `filesystem` on `account_name`. `endpoint` may be a full account
  URL (any ADLS Gen2 endpoint, e.g. "http://127.0.0.1:10001/devstoreaccount1" for a second
  tarnd) or Azure's storage suffix ("core.windows.net", combined with `protocol`); None means this
  tarnd.
- register_azure_blob_container: the same, for a container.
Secrets are sent once and never returned.
"""

from tarn.core.exceptions import UserErrorException

DEFAULT_DATALAKE_RESOURCE = "https://datalake.azure.net/"
DEFAULT_STORAGE_RESOURCE = "https://storage.azure.com/"
DEFAULT_AUTHORITY = "https://login.microsoftonline.com"


def _credential(tenant_id=None, client_id=None, client_secret=None, resource_url=None,
                authority_url=None, account_key=None, sas_token=None):
    given = [k for k, v in (("service principal", client_secret), ("account_key", account_key),
                            ("sas_token", sas_token)) if v]
    if len(given) > 1:
        raise UserErrorException("give one credential, not %s" % " and ".join(given),
                                 "InvalidCredential")
    if account_key:
        return {"type": "account_key", "account_key": account_key}
    if sas_token:
        return {"type": "sas", "sas_token": sas_token}
    if tenant_id or client_id or client_secret:
        missing = [n for n, v in (("tenant_id", tenant_id), ("client_id", client_id),
                                  ("client_secret", client_secret)) if not v]
        if missing:
            raise UserErrorException("a service principal needs %s" % ", ".join(missing),
                                     "InvalidCredential")
        return {"type": "service_principal", "tenant_id": tenant_id, "client_id": client_id,
                "client_secret": client_secret, "resource_url": resource_url,
                "authority_url": authority_url}
    return {"type": "none"}


def _endpoint_url(account_name, endpoint, protocol):
    if not endpoint:
        return ""
    if "://" in endpoint:
        return endpoint.rstrip("/")
    return "%s://%s.dfs.%s" % (protocol or "https", account_name, endpoint)


class Datastore:
    """A registered datastore. Datastore(workspace, name=None) gets it (the default one when
    name is None)."""

    def __new__(cls, workspace=None, name=None):
        if workspace is None:  # internal construction (_from_doc)
            return super().__new__(cls)
        return Datastore.get_default(workspace) if name is None else Datastore.get(workspace, name)

    @classmethod
    def _from_doc(cls, workspace, doc):
        kind = {"AzureDataLakeGen2": AzureDataLakeGen2Datastore}.get(doc.get("datastore_type"),
                                                                     Datastore)
        ds = object.__new__(kind)
        ds.workspace = workspace
        ds._doc = doc
        return ds

    # ----- attributes -----------------------------------------------------------------------
    name = property(lambda self: self._doc.get("name"))
    datastore_type = property(lambda self: self._doc.get("datastore_type"))
    account_name = property(lambda self: self._doc.get("account_name"))
    filesystem = property(lambda self: self._doc.get("filesystem"))
    container_name = filesystem
    endpoint = property(lambda self: self._doc.get("endpoint"))
    credential_type = property(lambda self: self._doc.get("credential_type"))
    tenant_id = property(lambda self: self._doc.get("tenant_id"))
    client_id = property(lambda self: self._doc.get("client_id"))
    is_default = property(lambda self: bool(self._doc.get("is_default")))
    local = property(lambda self: bool(self._doc.get("local")))

    def __repr__(self):
        shown = {k: self._doc.get(k) for k in ("name", "datastore_type", "account_name",
                                                "filesystem", "endpoint", "credential_type")}
        return "%s(%r)" % (type(self).__name__, shown)

    def path(self, path=None, data_reference_name=None):
        """A DataReference to path, which the dataset factories take like (datastore, path)."""
        from tarn.data.datapath import DataReference
        return DataReference(self, data_reference_name, path or "")

    # ----- lookup and lifecycle -------------------------------------------------------------
    @staticmethod
    def get(workspace, datastore_name):
        return Datastore._from_doc(workspace,
                                   workspace._client.get_datastore(workspace.name, datastore_name))

    @staticmethod
    def get_default(workspace):
        return Datastore._from_doc(workspace,
                                   workspace._client.get_default_datastore(workspace.name))

    def set_as_default(self):
        self.workspace.set_default_datastore(self.name)
        self._doc = dict(self._doc, is_default=True)

    def ingest(self, path, source, date=None, threads=8, show_progress=True, dataset=None,
               format=None):
        """Lands local files or directories as one batch of `source` in this datastore's
        filesystem (tarn.core.ingest), as the workspace's caller, and with `dataset` registers
        it through this datastore. Only for a datastore on the workspace's own tarnd account."""
        if not self.local or (self.account_name or self.workspace._client.account) != \
                self.workspace._client.account:
            raise UserErrorException(
                "ingest lands data on the workspace's own tarnd account; datastore %r is on %s"
                % (self.name, self.endpoint or self.account_name), "InvalidInput")
        from tarn.core.ingest import ingest
        return ingest(self.workspace, path, source, filesystem=self.filesystem, date=date,
                      threads=threads, show_progress=show_progress, dataset=dataset,
                      datastore=self.name if dataset else None, format=format)

    # ----- files (azureml's AzureBlobDatastore / AzureDataLakeGen2Datastore) ----------------
    def upload(self, src_dir, target_path=None, overwrite=False, show_progress=True):
        """Uploads the files under the local src_dir to target_path, keeping their relative
        paths, as the workspace's caller; existing files are kept unless overwrite. Returns a
        DataReference to target_path. Only for a datastore on this tarnd."""
        from tarn.core import _transfer
        from tarn.data.datapath import DataReference
        _transfer.upload_files(self, _transfer.local_files(src_dir), relative_root=src_dir,
                               target_path=target_path, overwrite=overwrite,
                               show_progress=show_progress)
        return DataReference(self, path_on_datastore=target_path)

    def upload_files(self, files, relative_root=None, target_path=None, overwrite=False,
                     show_progress=True):
        """Uploads the local files to target_path, each at its path relative to relative_root
        (its file name without one). Returns a DataReference to target_path."""
        from tarn.core import _transfer
        from tarn.data.datapath import DataReference
        _transfer.upload_files(self, files, relative_root=relative_root,
                               target_path=target_path, overwrite=overwrite,
                               show_progress=show_progress)
        return DataReference(self, path_on_datastore=target_path)

    def download(self, target_path, prefix=None, overwrite=False, show_progress=True):
        """Downloads the files whose path starts with prefix (all without one) into the local
        target_path, keeping their paths. Returns how many files were written."""
        from tarn.core import _transfer
        return _transfer.download(self, target_path, prefix=prefix, overwrite=overwrite,
                                  show_progress=show_progress)

    def as_mount(self):
        from tarn.data.datapath import DataReference
        return DataReference(self).as_mount()

    def as_download(self, path_on_compute=None):
        from tarn.data.datapath import DataReference
        return DataReference(self).as_download(path_on_compute)

    def unregister(self):
        """Removes the registration; the lake data stays."""
        self.workspace._client.unregister_datastore(self.workspace.name, self.name)

    # ----- registration ---------------------------------------------------------------------
    @staticmethod
    def _register(workspace, name, filesystem, account_name, endpoint, credential, overwrite,
                  skip_validation=False):
        client = workspace._client
        doc = client.register_datastore(workspace.name, name, endpoint or "",
                                        account_name or client.account, filesystem, credential,
                                        bool(overwrite), bool(skip_validation))
        return Datastore._from_doc(workspace, doc)

    @staticmethod
    def register_azure_data_lake(workspace, datastore_name, store_name, tenant_id=None,
                                 client_id=None, client_secret=None, resource_url=None,
                                 authority_url=None, subscription_id=None, resource_group=None,
                                 overwrite=False, grant_workspace_access=False, *,
                                 account_key=None, sas_token=None):
        cred = _credential(tenant_id, client_id, client_secret,
                           resource_url or DEFAULT_DATALAKE_RESOURCE,
                           authority_url or DEFAULT_AUTHORITY, account_key, sas_token)
        return Datastore._register(workspace, datastore_name, store_name, None, None, cred,
                                   overwrite)

    @staticmethod
    def register_azure_data_lake_gen2(workspace, datastore_name, filesystem, account_name,
                                      tenant_id=None, client_id=None, client_secret=None,
                                      resource_url=None, authority_url=None, protocol=None,
                                      endpoint=None, overwrite=False, subscription_id=None,
                                      resource_group=None, grant_workspace_access=False, *,
                                      account_key=None, sas_token=None, skip_validation=False):
        cred = _credential(tenant_id, client_id, client_secret,
                           resource_url or DEFAULT_STORAGE_RESOURCE,
                           authority_url or DEFAULT_AUTHORITY, account_key, sas_token)
        return Datastore._register(workspace, datastore_name, filesystem, account_name,
                                   _endpoint_url(account_name, endpoint, protocol), cred,
                                   overwrite, skip_validation)

    @staticmethod
    def register_azure_blob_container(workspace, datastore_name, container_name, account_name,
                                      sas_token=None, account_key=None, protocol=None,
                                      endpoint=None, overwrite=False, create_if_not_exists=False,
                                      skip_validation=False, blob_cache_timeout=None,
                                      grant_workspace_access=False, subscription_id=None,
                                      resource_group=None):
        """create_if_not_exists creates the container only on this tarnd's own account."""
        url = _endpoint_url(account_name, endpoint, protocol)
        if create_if_not_exists and not url and (account_name or workspace._client.account) == \
                workspace._client.account:
            workspace._client.create_filesystem(container_name)
        cred = _credential(account_key=account_key, sas_token=sas_token)
        return Datastore._register(workspace, datastore_name, container_name, account_name, url,
                                   cred, overwrite, skip_validation)


class AzureDataLakeGen2Datastore(Datastore):
    """A datastore on an ADLS Gen2 filesystem (every Tarn datastore is one)."""


AzureDataLakeDatastore = AzureDataLakeGen2Datastore
AzureBlobDatastore = AzureDataLakeGen2Datastore
