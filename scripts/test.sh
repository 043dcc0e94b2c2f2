#!/usr/bin/env bash
# Installs what is needed, builds, and runs every test: unit tests (GoogleTest under ctest) in a
# release build and in an ASan+UBSan build, the libFuzzer targets (fuzz/) for a bounded time each,
# then the protocol conformance suite, which drives Microsoft's own clients (Python SDKs, az,
# AzCopy, azure-identity) against a real tarnd (the SDK-facing part twice: with Debian's SDKs and
# with the current PyPI releases), including the adversarial suite (hostile input,
# connection attacks, a full disk), the SDK and CLI tests, the Python data stack's and the MLflow
# client's tests, Tarn Studio's browser tests, the main job (scripts/demo.sh), and each benchmark
# once in its quick form
# (completion only).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
bash scripts/bootstrap.sh --browser
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"

echo "== build (release)"
bash scripts/build.sh release
echo "== unit tests (release)"
(cd build/release && ctest --output-on-failure --timeout 600)

echo "== build (asan+ubsan): the unit tests and what they link"
bash scripts/build.sh asan tarn_unit_tests
echo "== unit tests (asan+ubsan)"
(cd build/asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
   ctest --output-on-failure --timeout 900)

echo "== fuzzing (libFuzzer, clang): each target replays its corpus, then runs ${TARN_FUZZ_SECONDS:-20} s"
bash scripts/fuzz.sh --seconds "${TARN_FUZZ_SECONDS:-20}"

echo "== conformance tests (Microsoft clients against tarnd)"
export TARND_BIN="$here/build/release/src/server/tarnd"
/usr/bin/python3 -m pytest -q -p no:cacheprovider tests/conformance
echo "== the conformance tests that drive the Python SDKs, again with their current PyPI releases (.venv)"
(cd tests/conformance && "$here/.venv/bin/python" -m pytest -q -p no:cacheprovider \
   test_blob.py test_datalake.py test_identity.py test_sign_in.py test_workspace_roles.py \
   test_catalog.py test_tls.py test_config.py test_bad_input.py test_preview.py test_cors.py \
   test_virtual_host.py test_batch.py test_tiers_and_policies.py test_soft_delete.py \
   test_from_url.py test_query.py test_website.py test_container_soft_delete.py)

echo "== SDK and CLI tests (tarn.core and the tarn CLI against real tarnds)"
/usr/bin/python3 -m pytest -q -p no:cacheprovider tests/sdk

echo "== the Python data stack (adlfs, pyarrow, polars, dask, tarn.fsspec's azureml://, azureml's data calls) against tarnd"
"$here/.venv/bin/python" -m pytest -q -p no:cacheprovider tests/clients

echo "== MLflow tracking tests (the real mlflow client, from the project's .venv, against tarnd)"
"$here/.venv/bin/python" -m pytest -q -p no:cacheprovider tests/mlflow

echo "== Tarn Studio in Debian's Chromium (playwright-core) against tarnd, with data made by the SDKs"
(cd studio && npm run --silent check)
"$here/.venv/bin/python" -m pytest -q -p no:cacheprovider tests/studio

echo "== the main job (scripts/demo.sh: the seed's flow, as far as it exists)"
bash scripts/demo.sh

echo "== benchmark harness (quick: completion only, never a timing)"
bash scripts/bench_lake.sh --quick
/usr/bin/python3 bench/pandas_bench.py --quick
/usr/bin/python3 bench/people_bench.py --seconds 1 --rounds 1 --small 50 --large-mib 8 > /dev/null
/usr/bin/python3 bench/ingest_bench.py --files 200 --rounds 1 > /dev/null
/usr/bin/python3 bench/pipeline_bench.py --quick > /dev/null
"$here/.venv/bin/python" bench/mlflow_bench.py --quick > /dev/null
/usr/bin/python3 bench/run_bench.py --quick > /dev/null
"$here/.venv/bin/python" bench/reader_bench.py --quick > /dev/null
"$here/.venv/bin/python" bench/studio_bench.py --quick > /dev/null
"$here/.venv/bin/python" bench/batch_bench.py --quick > /dev/null
"$here/.venv/bin/python" bench/soft_delete_bench.py --quick > /dev/null
/usr/bin/python3 bench/query_bench.py --quick > /dev/null
