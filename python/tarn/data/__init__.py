"""azureml.data's names: `from tarn.data import TabularDataset, FileDataset, DataType`, and
`from tarn.data.datapath import DataPath` as `azureml.data.datapath`."""

from tarn.core.data import (DataType, FileDataset, FileDatasetFactory,  # noqa: F401
                            TabularDataset, TabularDatasetFactory)
from tarn.data.datapath import DataPath, DataReference  # noqa: F401
