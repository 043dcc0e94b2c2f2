"""tarn.core: azureml.core's (SDK v1) Workspace, Datastore, Dataset, Experiment, Run, Model,
ScriptRunConfig and Environment over a tarnd."""

from tarn.core.authentication import (InteractiveLoginAuthentication,  # noqa: F401
                                      ServicePrincipalAuthentication)
from tarn.core.compute import (DatasetConsumptionConfig, Environment,  # noqa: F401
                               OutputFileDatasetConfig, ScriptRunConfig)
from tarn.core.data import FileDataset, TabularDataset  # noqa: F401
from tarn.core.dataset import Dataset  # noqa: F401
from tarn.core.datastore import Datastore  # noqa: F401
from tarn.core.ingest import IngestedBatch, ingest  # noqa: F401
from tarn.core.model import Model  # noqa: F401
from tarn.core.pipeline import Pipeline, PipelineRun  # noqa: F401
from tarn.core.run import Experiment, Run  # noqa: F401
from tarn.core.exceptions import (ActivityFailedException, DatasetDriftError,  # noqa: F401
                                  TarnError, UserErrorException)
from tarn.core.workspace import Workspace  # noqa: F401

# The SDK's version (azureml.core.VERSION's place): Tarn's own, as CMakeLists.txt's project().
VERSION = "0.1.0"
