"""azureml.data's names: `from tarn.data import TabularDataset, FileDataset, DataType`."""

from tarn.core.data import (DataType, FileDataset, FileDatasetFactory,  # noqa: F401
                            TabularDataset, TabularDatasetFactory)
