"""Exceptions of the Tarn SDK, shaped like azureml's (azureml.exceptions.UserErrorException).

Every error carries `code`: the server's error code (e.g. "DatasetAlreadyExists") when the
server answered, else a short name of what failed.
"""


class TarnError(Exception):
    """Base of every error the SDK raises."""

    def __init__(self, message, code=None):
        super().__init__(message)
        self.message = message
        self.code = code

    def __str__(self):
        return self.message


class UserErrorException(TarnError):
    """A request the server refused: bad input, unknown names, conflicts, credentials."""


class DatasetDriftError(UserErrorException):
    """A file of a dataset version on an external datastore changed or vanished since the
    version was registered (server code DatasetDrift). Read with ignore_drift=True to accept
    the current bytes instead."""


class DataReadError(UserErrorException):
    """The data could not be read or converted (server code DataReadFailed, or the local
    engine with on_error='fail')."""


class ActivityFailedException(UserErrorException):
    """A submitted run ended Failed or Canceled (azureml.exceptions.ActivityFailedException):
    raised by Run.wait_for_completion(raise_on_error=True). The message holds the run's error
    and the last lines of its log; `run_id` and `status` say which run and how it ended."""

    def __init__(self, message, code="ActivityFailed", run_id=None, status=None):
        super().__init__(message, code)
        self.run_id = run_id
        self.status = status


class TarnConnectionError(TarnError):
    """tarnd could not be reached, or the exchange failed."""
