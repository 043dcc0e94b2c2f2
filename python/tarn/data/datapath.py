"""DataPath and DataReference, as azureml.data.datapath and azureml.data.data_reference:
a path on a datastore, which the dataset factories and Dataset.File.upload_directory take
wherever they take a (datastore, 'path') tuple."""


class DataPath:
    """DataPath(datastore, path_on_datastore, name): a path on a datastore."""

    def __init__(self, datastore=None, path_on_datastore=None, name=None):
        if datastore is None:
            from tarn.core.exceptions import UserErrorException
            raise UserErrorException("a DataPath needs its datastore", "InvalidPaths")
        self._datastore = datastore
        self.path_on_datastore = (path_on_datastore or "").lstrip("/")
        self.name = name

    @property
    def datastore_name(self):
        return self._datastore.name

    def _as_tuple(self):
        return (self._datastore, self.path_on_datastore)

    def create_data_reference(self, data_reference_name=None, datapath_compute_binding=None):
        return DataReference(self._datastore, data_reference_name or self.name,
                             self.path_on_datastore)

    def __repr__(self):
        return "DataPath(datastore=%r, path_on_datastore=%r)" % (self.datastore_name,
                                                                 self.path_on_datastore)


class DataReference:
    """A reference to a path on a datastore, as Datastore.upload returns it."""

    def __init__(self, datastore, data_reference_name=None, path_on_datastore=None, mode="mount",
                 path_on_compute=None, overwrite=False):
        self.datastore = datastore
        self.data_reference_name = data_reference_name or datastore.name
        self.path_on_datastore = path_on_datastore or ""
        self.mode = mode
        self.path_on_compute = path_on_compute
        self.overwrite = overwrite

    def path(self, path=None, data_reference_name=None):
        joined = "/".join(p.strip("/") for p in (self.path_on_datastore, path or "") if p)
        return DataReference(self.datastore, data_reference_name, joined)

    def as_download(self, path_on_compute=None, overwrite=False):
        return DataReference(self.datastore, self.data_reference_name, self.path_on_datastore,
                             "download", path_on_compute, overwrite)

    def as_mount(self):
        return DataReference(self.datastore, self.data_reference_name, self.path_on_datastore,
                             "mount")

    def _as_tuple(self):
        return (self.datastore, self.path_on_datastore)

    def __str__(self):
        return "$AZUREML_DATAREFERENCE_%s" % self.data_reference_name

    def __repr__(self):
        return "DataReference(datastore=%r, path_on_datastore=%r, mode=%r)" % (
            self.datastore.name, self.path_on_datastore, self.mode)
