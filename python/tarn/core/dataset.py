"""Dataset, as azureml.core.dataset.Dataset: the factories and the registry lookups.

    from tarn.core.dataset import Dataset
    ds = Dataset.Tabular.from_delimited_files(path=[(datastore, 'sales/**/*.csv')])
    ds = ds.register(workspace, 'sales', create_new_version=True)
    df = Dataset.get_by_name(workspace, 'sales', version=1).to_pandas_dataframe()
"""

from tarn.core.data.abstract_dataset import AbstractDataset
from tarn.core.data.dataset_factory import FileDatasetFactory, TabularDatasetFactory


class Dataset:
    Tabular = TabularDatasetFactory
    File = FileDatasetFactory

    def __init__(self, *args, **kwargs):
        raise TypeError("use Dataset.Tabular / Dataset.File factories or Dataset.get_by_name")

    @staticmethod
    def get_by_name(workspace, name, version="latest"):
        """The registered version (a TabularDataset or FileDataset)."""
        return AbstractDataset.get_by_name(workspace, name, version)

    @staticmethod
    def get_by_id(workspace, id, **kwargs):
        return AbstractDataset.get_by_id(workspace, id)

    @staticmethod
    def get_all(workspace):
        """{name: latest active version} of the workspace's datasets."""
        return AbstractDataset.get_all(workspace)
