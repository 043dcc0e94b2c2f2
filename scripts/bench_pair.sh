#!/usr/bin/env bash
# Two tarnd binaries side by side on the small-operation workloads (1 KiB DFS create+append+flush,
# Put Blob, Get Blob with tarn_bench small and Shared Key; and 1 KiB Get Blob with wrk and
# SAS-signed URLs, 2 threads x 16 connections, as docs/benchmarks.md measures it), alternating
# which goes first each round, so that a change can be measured before and after in one run on
# one machine.
#
#   bash scripts/bench_pair.sh BEFORE_TARND AFTER_TARND [--rounds 3] [--seconds 15] [--clients 16]
#
# e.g. the tarnd of an earlier commit against this checkout's:
#   git worktree add /tmp/before <commit> && (cd /tmp/before && bash scripts/build.sh release tarnd)
#   bash scripts/bench_pair.sh /tmp/before/build/release/src/server/tarnd build/release/src/server/tarnd
#
# Each run starts its tarnd on 127.0.0.1 (a port the kernel picks, HTTPS off) with a fresh data
# directory under build/bench-pair (on the repository's disk, never tmpfs: writes are fsynced),
# and stops it and removes the directory after. Prints each run, then the median ops/s of each
# binary per workload and their ratio (after / before). Needs build/release/bench/tarn_bench
# (bash scripts/build.sh release).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d'; }
(($# >= 2)) || { usage >&2; exit 2; }
[[ "$1" == -h || "$1" == --help ]] && { usage; exit 0; }
before="$(realpath -m "$1")" after="$(realpath -m "$2")"
shift 2
rounds=3 seconds=15 clients=16
while (($#)); do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --clients) clients="$2"; shift 2 ;;
    *) echo "bench_pair.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
bench="$here/build/release/bench/tarn_bench"
for b in "$before" "$after" "$bench"; do
  [[ -x "$b" ]] || { echo "bench_pair.sh: $b is not an executable (build it first)" >&2; exit 1; }
done
command -v wrk > /dev/null || { echo "bench_pair.sh: wrk is missing (bash scripts/bootstrap.sh)" >&2; exit 1; }

work="$here/build/bench-pair"
mkdir -p "$work"
pid=""
cleanup() {
  if [[ -n "$pid" ]]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"/run-*
}
trap cleanup EXIT

results="$work/results.tsv"
: > "$results"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "before: $before"
echo "after:  $after"
for ((round = 1; round <= rounds; round++)); do
  order=(before after)
  ((round % 2 == 0)) && order=(after before)
  for which in "${order[@]}"; do
    bin="$before"; [[ "$which" == after ]] && bin="$after"
    dir="$(mktemp -d "$work/run-XXXX")"
    "$bin" --listen 127.0.0.1:0 --tls-listen off --data-dir "$dir/data" --log-level warn \
      > "$dir/out" 2> "$dir/err" &
    pid=$!
    port=""
    for _ in $(seq 100); do
      port="$(grep -o 'http://127.0.0.1:[0-9]*' "$dir/out" 2>/dev/null | head -1 | sed 's/.*://')" || true
      [[ -n "$port" ]] && break
      sleep 0.1
    done
    [[ -n "$port" ]] || { echo "bench_pair.sh: $bin did not start: $(cat "$dir/err")" >&2; exit 1; }
    # wrk: 100 blobs of 1 KiB and a SAS for each (bench/sdk_bench.py), then GETs.
    /usr/bin/python3 "$here/bench/sdk_bench.py" sas --endpoint "http://127.0.0.1:$port/devstoreaccount1" \
      --count 100 --out "$dir/wrk.txt" > /dev/null
    report="$(wrk -t2 -c16 -d"${seconds}s" --timeout 10s -s "$here/bench/wrk_sas_get.lua" \
                "http://127.0.0.1:$port" -- "$dir/wrk.txt" | sed -n 's/^WRK_JSON //p')"
    ops="$(/usr/bin/python3 -c 'import json, sys; r = json.loads(sys.argv[1]); print(r["ops_s"] if r["ok"] else "")' \
             "$report" 2>/dev/null)" || ops=""
    [[ -n "$ops" ]] || { echo "bench_pair.sh: $which wrk failed: $report" >&2; exit 1; }
    printf '%s\t%s\t%s\t%s\n' "$round" "$which" "wrk" "$ops" >> "$results"
    printf 'round %d  %-6s %-5s %.0f ops/s\n' "$round" "$which" "wrk" "$ops"
    for mode in write blob read; do
      report="$("$bench" small --url "http://127.0.0.1:$port" --clients "$clients" --ops 100000000 \
                  --duration "$seconds" --mode "$mode" --fs "pair$mode" 2>&1 | tail -1)"
      ops="$(/usr/bin/python3 -c 'import json, sys; r = json.loads(sys.argv[1]); print(r["ops_s"] if r["ok"] else "")' \
               "$report" 2>/dev/null)" || ops=""
      [[ -n "$ops" ]] || { echo "bench_pair.sh: $which $mode failed: $report" >&2; exit 1; }
      printf '%s\t%s\t%s\t%s\n' "$round" "$which" "$mode" "$ops" >> "$results"
      printf 'round %d  %-6s %-5s %.0f ops/s\n' "$round" "$which" "$mode" "$ops"
    done
    kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
    rm -rf "$dir"
  done
done

/usr/bin/python3 - "$results" <<'PY'
import statistics, sys
rows = [l.split("\t") for l in open(sys.argv[1]).read().splitlines()]
names = {"write": "1 KiB DFS create+append+flush", "blob": "1 KiB Put Blob",
         "read": "1 KiB Get Blob (tarn_bench)", "wrk": "1 KiB Get Blob (wrk, SAS)"}
print("\n| workload | before (median ops/s) | after (median ops/s) | after / before |")
print("|---|---|---|---|")
for mode, name in names.items():
    med = {w: statistics.median(float(r[3]) for r in rows if r[1] == w and r[2] == mode)
           for w in ("before", "after")}
    print(f"| {name} | {med['before']:,.0f} | {med['after']:,.0f} | {med['after'] / med['before']:.2f} |")
PY
