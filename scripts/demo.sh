#!/usr/bin/env bash
# The main job: installs what is needed, builds tarnd, starts it on the embedded default
# (SQLite metadata + local-disk extents) in a fresh data directory on loopback, and runs a short
# scripted demo with Microsoft's Python SDK against it. Stops tarnd when done.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
bash scripts/bootstrap.sh
bash scripts/build.sh release tarnd tarn tarn_native
export PYTHONPATH="$here/build/release/python${PYTHONPATH:+:$PYTHONPATH}"

data="$(mktemp -d /tmp/tarn-demo.XXXXXX)"
out="$data/tarnd.out"
# Submitted runs execute as the unprivileged user bootstrap made (when this is root), in a
# directory of their own, with the build tree's tarn package on their PYTHONPATH.
runs="$(mktemp -d /tmp/tarn-demo-runs.XXXXXX)"
chmod 711 "$runs"
user=""
[ "$(id -u)" = 0 ] && user='"user": "tarnrun", "run_uids": "200000-209999", '
printf '{"compute": {"local": {%s"work_dir": "%s", "environment": {"PYTHONPATH": "%s"}}}}\n' \
  "$user" "$runs" "$here/build/release/python" > "$data/tarnd.json"
build/release/src/server/tarnd --listen 127.0.0.1:0 --data-dir "$data/data" \
  --config "$data/tarnd.json" >"$out" 2>"$data/tarnd.log" &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$data" "$runs"' EXIT
for _ in $(seq 1 100); do
  grep -q "listening on" "$out" 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || { cat "$data/tarnd.log" >&2; exit 1; }
  sleep 0.1
done
cat "$out"
url="$(grep -o 'http://[0-9.:]*' "$out" | head -1)"
TARN_HTTPS_URL="$(grep -o 'https://[0-9.:]*' "$out" | head -1)" \
TARN_CA_FILE="$data/data/tls/cert.pem" TARN_CLI="$here/build/release/src/cli/tarn" \
  /usr/bin/python3 scripts/demo.py "$url"
