"""Dataset classes, as azureml.data: TabularDataset, FileDataset, DataType."""

from tarn.core.data.dataset_factory import (DataType, FileDatasetFactory,  # noqa: F401
                                            TabularDatasetFactory)
from tarn.core.data.file_dataset import FileDataset  # noqa: F401
from tarn.core.data.tabular_dataset import TabularDataset  # noqa: F401
