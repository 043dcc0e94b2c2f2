"""A user's training script, as test_training_flow.py runs it: the tracking server comes from
MLFLOW_TRACKING_URI (and MLFLOW_TRACKING_TOKEN / MLFLOW_TRACKING_SERVER_CERT_PATH for tarnd).

    python train_sklearn.py EXPERIMENT_NAME OUT_DIR

Trains a scikit-learn classifier, logs params, per-epoch metrics, a text and a dict artifact and
the model, and writes to OUT_DIR what the test checks against: run.json (ids and what was
logged), X.npy (inputs) and expected.npy (the model's own predictions for them).
"""

import json
import sys
from pathlib import Path

import mlflow
import mlflow.sklearn
import numpy as np
from sklearn.datasets import make_classification
from sklearn.linear_model import SGDClassifier

EPOCHS = 8


def main(experiment_name, out_dir):
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    X, y = make_classification(n_samples=200, n_features=6, n_informative=4, random_state=7)
    params = {"alpha": 0.001, "loss": "log_loss", "epochs": EPOCHS, "seed": 7}
    mlflow.set_experiment(experiment_name)
    with mlflow.start_run(run_name="sgd-baseline") as run:
        mlflow.log_params(params)
        mlflow.set_tag("team", "forecasting")
        model = SGDClassifier(alpha=params["alpha"], loss=params["loss"], random_state=7)
        history = {"accuracy": [], "train_loss": []}
        for epoch in range(EPOCHS):
            model.partial_fit(X, y, classes=np.array([0, 1]))
            acc = float(model.score(X, y))
            loss = float(np.mean(model.predict(X) != y))
            mlflow.log_metric("accuracy", acc, step=epoch)
            mlflow.log_metric("train_loss", loss, step=epoch)
            history["accuracy"].append(acc)
            history["train_loss"].append(loss)
        notes = "SGD baseline\nfeatures: 6\nepochs: %d\n" % EPOCHS
        mlflow.log_text(notes, "notes/summary.txt")
        report = {"classes": [0, 1], "final_accuracy": history["accuracy"][-1]}
        mlflow.log_dict(report, "report.json")
        info = mlflow.sklearn.log_model(model, name="model", input_example=X[:3])
        expected = model.predict(X)
    np.save(out / "X.npy", X)
    np.save(out / "expected.npy", expected)
    (out / "run.json").write_text(json.dumps({
        "run_id": run.info.run_id, "experiment_id": run.info.experiment_id,
        "model_id": info.model_id, "model_uri": info.model_uri, "params": params,
        "history": history, "notes": notes, "report": report}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
