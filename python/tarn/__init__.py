"""Tarn's Python SDK. `tarn.core` mirrors azureml.core (SDK v1): Workspace, Datastore, Dataset.

The C++ client and tabular reader live in the extension `tarn._native`, built by CMake into
build/<kind>/python/tarn/ next to links to this package (docs/sdk.md).
"""

__version__ = "0.1.0"
