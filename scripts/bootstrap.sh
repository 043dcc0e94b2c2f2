#!/usr/bin/env bash
# Installs everything Tarn needs to build and test on a fresh Debian 12 machine (run as root).
# Idempotent: a second run installs nothing new. Debian packages and pinned npm packages only.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

debs=(
  build-essential cmake ninja-build ccache pkg-config git
  libboost-dev libssl-dev libsqlite3-dev sqlite3 nlohmann-json3-dev libpugixml-dev
  libcli11-dev libspdlog-dev libfmt-dev libsodium-dev libfuse3-dev fuse3 libre2-dev libyaml-cpp-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  rclone python3 python3-venv python3-pytest python3-azure python3-numpy python3-pandas
  azure-cli openssl curl libsecret-1-0
  wrk python3-matplotlib
  clang-14 libclang-rt-14-dev
  slurm-wlm munge
  libnss-myhostname libavro-dev
)
# libnss-myhostname resolves *.localhost to loopback, so that the tests reach tarnd's virtual
# hosts (devstoreaccount1.blob.localhost) as a client machine would. libavro-dev (Avro C)
# encodes the records of Query Blob Contents answers.
# Node.js ships its own npm on these machines; Debian's npm conflicts with that nodejs.
command -v npm >/dev/null 2>&1 || debs+=(nodejs npm)
missing=()
for p in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "bootstrap: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Microsoft's AzCopy, pinned, from npm (the package ships the Linux binary). Tests find it at
# .tools/azcopy.
tools="$here/.tools"
azcopy_bin="$tools/node_modules/@azure-tools/azcopy-linux/dist/bin/azcopy_linux_amd64"
if [ ! -f "$azcopy_bin" ]; then
  mkdir -p "$tools"
  # --ignore-scripts: this reinstalls the whole prefix, whose duckdb package must not run its own.
  npm install --silent --no-audit --no-fund --ignore-scripts --prefix "$tools" \
    @azure-tools/azcopy-linux@10.32.2 >/dev/null
fi
chmod +x "$azcopy_bin"
ln -sf "$azcopy_bin" "$tools/azcopy"

# DuckDB 1.4 (LTS), pinned, from npm: the node bindings ship libduckdb.so and the old node package
# ships the matching C++ headers. --ignore-scripts: that package's install script would download or
# compile a binary. CMake finds both under .tools/node_modules (cmake/FindDuckDB.cmake).
duckdb_lib="$tools/node_modules/@duckdb/node-bindings-linux-x64/libduckdb.so"
duckdb_hdr="$tools/node_modules/duckdb/src/duckdb/src/include/duckdb.hpp"
if [ ! -f "$duckdb_lib" ] || [ ! -f "$duckdb_hdr" ]; then
  echo "bootstrap: installing DuckDB 1.4.4 into .tools"
  mkdir -p "$tools"
  npm install --silent --no-audit --no-fund --ignore-scripts --save-exact --prefix "$tools" \
    @duckdb/node-bindings-linux-x64@1.4.4-r.1 duckdb@1.4.4 >/dev/null
fi

# Microsoft's Azurite (the Blob emulator), pinned, from npm: scripts/bench_lake.sh measures tarnd
# against it at .tools/node_modules/.bin/azurite-blob.
azurite_version=3.35.0
if [ ! -x "$tools/node_modules/.bin/azurite-blob" ] ||
   [ "$(node -p "require('$tools/node_modules/azurite/package.json').version" 2>/dev/null)" != "$azurite_version" ]; then
  mkdir -p "$tools"
  npm install --silent --no-audit --no-fund --ignore-scripts --prefix "$tools" \
    "azurite@$azurite_version" >/dev/null
fi
# Microsoft's JavaScript DataLake and Blob SDKs, pinned, from npm: tests/clients drive them
# against tarnd with node.
js_datalake_version=12.31.0
js_blob_version=12.34.0
if [ "$(node -p "require('$tools/node_modules/@azure/storage-file-datalake/package.json').version" \
        2>/dev/null)" != "$js_datalake_version" ] ||
   [ "$(node -p "require('$tools/node_modules/@azure/storage-blob/package.json').version" \
        2>/dev/null)" != "$js_blob_version" ]; then
  mkdir -p "$tools"
  npm install --silent --no-audit --no-fund --ignore-scripts --save-exact --prefix "$tools" \
    "@azure/storage-file-datalake@$js_datalake_version" "@azure/storage-blob@$js_blob_version" \
    >/dev/null
fi
# Tarn Studio's npm packages (studio/package-lock.json): Vite and TypeScript build it with the
# release build; playwright-core drives Chromium in its tests.
studio="$here/studio"
if ! cmp -s "$studio/package-lock.json" "$studio/node_modules/.package-lock.stamp" 2>/dev/null; then
  echo "bootstrap: installing Tarn Studio's npm packages"
  (cd "$studio" && npm ci --silent --no-audit --no-fund --ignore-scripts >/dev/null)
  cp "$studio/package-lock.json" "$studio/node_modules/.package-lock.stamp"
fi
# Debian's Chromium, for the studio's browser tests (scripts/test.sh asks with --browser).
if [ "${1:-}" = "--browser" ] &&
   ! dpkg-query -W -f='${Status}' chromium 2>/dev/null | grep -q "install ok installed"; then
  echo "bootstrap: installing chromium"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium \
    fonts-dejavu-core >/dev/null
fi
# The project's virtual environment, pinned, from PyPI: the real mlflow client (and scikit-learn
# for its training scripts) that tests/mlflow and bench/mlflow_bench.py drive against tarnd.
# It is made from Debian's /usr/bin/python3 (3.11, as the machine's own python3), so that runs
# on the local compute target, which execute as an unprivileged user, can use it too: the
# machine's own interpreter lives under root's home, out of that user's reach.
venv="$here/.venv"
reqs="$here/python/venv/requirements.txt"
cons="$here/python/venv/constraints.txt"
stamp="$venv/.installed"
if [ -x "$venv/bin/python" ] &&
   [ "$(readlink -f "$venv/bin/python")" != "$(readlink -f /usr/bin/python3)" ]; then
  rm -rf "$venv"
fi
if [ ! -f "$stamp" ] || ! cmp -s <(cat "$reqs" "$cons") "$stamp"; then
  echo "bootstrap: installing the project's virtual environment (.venv) from PyPI"
  [ -x "$venv/bin/python" ] || /usr/bin/python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$reqs" -c "$cons" 2>&1 |
    grep -v "is ignored: it is neither a file nor a directory" || true
  "$venv/bin/python" -c "import mlflow, sklearn, pytest, adlfs, polars, pyarrow.fs"
  cat "$reqs" "$cons" > "$stamp"
fi
# The user that submitted runs execute as (compute.local.user, compute.slurm.user) in the demo
# and the tests: tarnd runs them as root, and runs never execute as root.
if [ "$(id -u)" = 0 ] && ! id -u tarnrun >/dev/null 2>&1; then
  useradd --system --no-create-home --shell /usr/sbin/nologin tarnrun
fi
echo "bootstrap: ok"
