"""Logs metric `acked` at steps 0, 1, 2, ... to one run and appends each step to ACK_FILE once the
server has acknowledged it (log_metric returned), until a request fails, MAX_STEPS are logged or
MAX_SECONDS pass. test_crash.py kills tarnd under it.

    python log_until_killed.py RUN_ID ACK_FILE MAX_STEPS MAX_SECONDS
"""

import sys
import time

from mlflow import MlflowClient


def main(run_id, ack_file, max_steps, max_seconds):
    client = MlflowClient()
    deadline = time.monotonic() + max_seconds
    with open(ack_file, "a") as acks:
        for step in range(max_steps):
            if time.monotonic() > deadline:
                break
            try:
                client.log_metric(run_id, "acked", float(step), step=step)
            except Exception as e:  # the server went away: stop, as a training job would
                print(f"step {step} not acknowledged: {type(e).__name__}", flush=True)
                return
            acks.write(f"{step}\n")
            acks.flush()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
