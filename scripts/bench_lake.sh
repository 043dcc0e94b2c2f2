#!/usr/bin/env bash
# The lake benchmark: tarnd beside Azurite (Microsoft's Blob emulator, in memory and on disk)
# and beside the machine's own limits, all measured in one run, with the same clients.
#
#   bash scripts/bench_lake.sh           # full run (most of an hour on 2 cores); rewrites
#                                        # docs/benchmarks.md and docs/benchmarks.png
#   bash scripts/bench_lake.sh --quick   # small sizes, under 60 s, for CI: asserts only that each
#                                        # workload completed without errors, never a timing;
#                                        # writes build/bench/quick.md (+ .png), never docs/
#   options: --out FILE (where the report goes; the chart goes beside it as .png),
#            --no-build (use the binaries already built)
#   environment:
#     TARND=/path/to/tarnd        measure that tarnd binary instead (the report names it)
#     BENCH_SCALE=0.1             full run with sizes, counts and durations scaled down (a check
#                                 of the harness; the report says so)
#     BENCH_AZURITE_RENAME_MAX=N  largest tree Azurite renames by copy+delete (default 10000);
#                                 larger trees are extrapolated from it, and the report says so
#     BENCH_AZURITE_LIST_MAX=N    largest tree Azurite builds and lists (default 25000): its Put
#                                 Blob slows as a container grows, so a 100,000-blob tree takes
#                                 it over an hour here; the report says when Azurite's was smaller
#     BENCH_QUIET_WAIT=S          seconds to wait for a quiet machine before a full run (600)
#
# It installs what is missing (Azurite 3.35.0 from npm into .tools/, wrk and matplotlib from
# Debian: scripts/bootstrap.sh), builds tarnd and tarn_bench (build/release), and starts three
# servers on 127.0.0.1, on ports the kernel picks: tarnd with a fresh data directory, Azurite with
# --inMemoryPersistence, and Azurite with a --location directory, the data directories on the
# same disk as the repository (never tmpfs). Each workload runs against the three in turn, in an
# order that alternates from round to round, with the same client: tarn_bench (Tarn's C++ client,
# Shared Key; --flat for Azurite, which has no DFS), wrk with SAS-signed GETs, and the Python SDK.
# Each workload starts from an empty store: tarnd deletes the workload's filesystem, and the
# Azurites are restarted empty. The
# physical limits (memcpy, loopback TCP, 4 KiB write+fdatasync, dd conv=fsync) are measured in
# the same run. Every server is stopped and every data directory removed on exit.
# The braces make bash read the whole file before running it: editing or checking out this file
# during a run changes nothing in that run.
{
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"

quick=0
build=1
out=""
while (($#)); do
  case "$1" in
    --quick) quick=1 ;;
    --no-build) build=0 ;;
    --out) out="$2"; shift ;;
    -h|--help) sed -n '2,32p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "bench_lake: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
if [ -z "$out" ]; then
  if ((quick)); then out="$here/build/bench/quick.md"; else out="$here/docs/benchmarks.md"; fi
fi
scale="${BENCH_SCALE:-1}"
azurite_rename_max="${BENCH_AZURITE_RENAME_MAX:-10000}"
azurite_list_max="${BENCH_AZURITE_LIST_MAX:-25000}"
py=/usr/bin/python3

azurite_bin="$here/.tools/node_modules/.bin/azurite-blob"
if [ ! -x "$azurite_bin" ] || ! command -v wrk >/dev/null ||
   ! "$py" -c 'import matplotlib, azure.storage.blob' 2>/dev/null; then
  echo "bench_lake: installing what is missing (scripts/bootstrap.sh)"
  bash scripts/bootstrap.sh
fi
if ((build)); then
  TARN_JOBS="${TARN_JOBS:-2}" bash scripts/build.sh release tarnd tarn_bench
fi
tarnd_src="${TARND:-$here/build/release/src/server/tarnd}"
for b in "$tarnd_src" "$here/build/release/bench/tarn_bench"; do
  [ -x "$b" ] || { echo "bench_lake: $b is missing (run without --no-build)" >&2; exit 1; }
done

# The data directories: /tmp only when it is on the repository's disk, else under build/.
fs_of() { df --output=source,fstype "$1" | tail -1 | tr -s " "; }
base="$here/build/bench"
if [ "$(fs_of /tmp)" = "$(fs_of "$here")" ]; then base="/tmp"; fi
mkdir -p "$here/build/bench" "$base"
work="$(mktemp -d "$base/tarn-bench.XXXXXX")"
declare -A URL=() PID=()
targets=(tarnd azurite-mem azurite-disk)
stop_pid() {
  local p="$1"
  kill -0 "$p" 2>/dev/null || return 0
  kill -TERM "$p" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$p" 2>/dev/null || true
}
cleanup() {
  for t in "${!PID[@]}"; do stop_pid "${PID[$t]}"; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# Private copies of the binaries: a rebuild in the work tree during the run changes nothing.
mkdir -p "$work/bin"
cp "$tarnd_src" "$work/bin/tarnd"
cp build/release/bench/tarn_bench bench/report.py bench/sdk_bench.py bench/wrk_sas_get.lua "$work/bin/"
bench="$work/bin/tarn_bench"
tarnd_built="built $(date -u -r "$tarnd_src" '+%Y-%m-%d %H:%M UTC')"
if [ -n "${TARND:-}" ]; then tarnd_built="the binary $TARND, $tarnd_built"; fi
# This run's results stay private until the end (several runs may share the work tree).
results="$work/results"
mkdir -p "$results"
kept="$here/build/bench/results-$( ((quick)) && echo quick || echo full)"

# launch NAME CMD...: starts a server in $work/NAME (its cwd), output to $work/NAME.out.
launch() {
  local name="$1"
  shift
  mkdir -p "$work/$name"
  (cd "$work/$name" && exec "$@") >"$work/$name.out" 2>"$work/$name.err" &
  PID[$name]=$!
}
# await NAME: waits until the server's output shows the URL it listens on.
await() {
  local name="$1" found=""
  for _ in $(seq 1 300); do
    found="$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$work/$name.out" 2>/dev/null | head -1 || true)"
    [ -n "$found" ] && break
    kill -0 "${PID[$name]}" 2>/dev/null ||
      { echo "bench_lake: $name exited:" >&2; cat "$work/$name.out" "$work/$name.err" >&2; exit 1; }
    sleep 0.1
  done
  [ -n "$found" ] || { echo "bench_lake: $name did not start in 30 s" >&2; exit 1; }
  URL[$name]="$found"
  echo "bench_lake: $name at $found (pid ${PID[$name]})"
}
# launch_azurites: both Azurites, empty (in memory, and on disk in a fresh directory).
launch_azurites() {
  local azurite=("$azurite_bin" --blobHost 127.0.0.1 --blobPort 0 --skipApiVersionCheck --loose
                 --disableTelemetry --silent)
  launch azurite-mem "${azurite[@]}" --inMemoryPersistence
  launch azurite-disk "${azurite[@]}" --location "$work/azurite-disk/data"
}
launch tarnd "$work/bin/tarnd" --listen 127.0.0.1:0 --data-dir "$work/tarnd/data" --log-level warn
launch_azurites
for t in "${targets[@]}"; do await "$t"; done
azurite_version="$(node -p "require('$here/.tools/node_modules/azurite/package.json').version")"
echo "bench_lake: Azurite $azurite_version; data in $work ($(fs_of "$work"))"

failures=0
# record NAME TIMEOUT CMD...: one bounded run of a command that prints one JSON line (the last
# line starting with "{" or "WRK_JSON "); it goes to NAME.json, and a failure is counted.
record() {
  local name="$1" limit_s="$2"; shift 2
  local text line rc=0
  text="$(timeout "$limit_s" "$@" 2>"$results/$name.err")" || rc=$?
  line="$(echo "$text" | sed -n 's/^WRK_JSON //; /^{/p' | tail -1)"
  [ -n "$line" ] || line='{"ok":false}'
  echo "$line" >"$results/$name.json"
  echo "  $name: $line"
  if ((rc != 0)) || ! echo "$line" | grep -q '"ok": *true'; then
    echo "bench_lake: $name failed (exit $rc): $(head -c 600 "$results/$name.err")" >&2
    failures=$((failures + 1))
  fi
}
# limit NAME ARGS...: a physical-limit probe of tarn_bench (no server).
limit() { local name="$1"; shift; record "$name" 300 "$bench" "$@"; }
# on TARGET NAME ARGS...: a tarn_bench workload against one target, in the filesystem $FS
# (default "bench"); its result is NAME@TARGET.json (NAME may end in #ROUND).
on() {
  local target="$1" name="$2"; shift 2
  local flat=()
  [ "$target" = tarnd ] || flat=(--flat)
  record "$name@$target" 2400 "$bench" "$1" --url "${URL[$target]}" "${flat[@]}" \
    --fs "${FS:-bench}" "${@:2}" --max-seconds 1800
}
# CPU ticks and peak memory of the Azurites restarted so far.
azurite_ticks=0
declare -A PEAK_KB=()
# reset FS: the next workload starts from an empty store everywhere: tarnd deletes that filesystem
# (fast), and both Azurites are restarted empty. Azurite slows down as it holds more blobs, and
# deleting a container of N blobs costs it O(N^2) (minutes for 25,000, during which it answers
# nothing), so a restart is the fair and quick way.
reset() {
  local t kb
  FS="$1" on tarnd "drop-$1" drop >/dev/null
  for t in azurite-mem azurite-disk; do
    kb="$(peak_kb "$t")"
    ((kb > ${PEAK_KB[$t]:-0})) && PEAK_KB[$t]=$kb
    azurite_ticks=$((azurite_ticks + $(proc_ticks "${PID[$t]}")))
    stop_pid "${PID[$t]}"
    rm -rf "${work:?}/$t" "$work/$t.out" "$work/$t.err"
  done
  launch_azurites
  for t in azurite-mem azurite-disk; do await "$t" >/dev/null; done
}
# order ROUND: the targets, in an order that alternates from round to round.
order() {
  if (($1 % 2)); then echo tarnd azurite-mem azurite-disk; else echo azurite-disk azurite-mem tarnd; fi
}
# n VALUE [MIN]: VALUE scaled by BENCH_SCALE (full runs), at least MIN (default 1).
n() { awk -v v="$1" -v s="$scale" -v m="${2:-1}" 'BEGIN { x = int(v * s); print (x < m ? m : x) }'; }
# dd_fsync NAME MIB: the disk's sequential write rate with fsync, 1 MiB blocks, as JSON.
dd_fsync() {
  local name="$1" count="$2" text bytes secs
  text="$(LC_ALL=C dd if=/dev/zero of="$work/dd.bin" bs=1M count="$count" conv=fsync 2>&1 | tail -1)"
  rm -f "$work/dd.bin"
  bytes="$(echo "$text" | awk '{print $1}')"
  secs="$(echo "$text" | sed -E 's/.*copied, ([0-9.e+-]+) s.*/\1/')"
  echo "{\"bench\":\"dd-fsync\",\"bytes\":$bytes,\"seconds\":$secs,\"mb_s\":$(awk -v b="$bytes" -v s="$secs" 'BEGIN{printf "%.1f", b/s/1e6}'),\"ok\":true,\"dd\":\"$text\"}" \
    >"$results/$name.json"
  echo "  $name: $text"
}
# quiet_disk: waits for the writeback of everything written so far (Azurite on disk never fsyncs,
# so its uploads leave dirty pages behind), so that each large upload and each dd starts with an
# idle disk whichever server ran before it. Outside every timing.
quiet_disk() { sync; sleep 1; }
# paths_of NAME: "--path P" for each path an upload result names, relative to the filesystem.
paths_of() {
  "$py" -c 'import json,sys; [print("--path", p.split("/",1)[1]) for p in json.load(open(sys.argv[1]))["paths"]]' \
    "$results/$1.json" 2>/dev/null || echo "--path missing-upload"
}
# peak_kb TARGET: the server's peak resident memory so far (VmHWM), in KiB.
peak_kb() { awk '/VmHWM/ {print $2}' "/proc/${PID[$1]}/status" 2>/dev/null || echo 0; }
# reset_peak TARGET: restarts VmHWM from the current resident size.
reset_peak() { echo 5 >"/proc/${PID[$1]}/clear_refs" 2>/dev/null || true; }

# CPU accounting, so the report can say how much else ran on the machine meanwhile.
busy_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }
busy_percent() {  # machine-wide, over two seconds
  local a b
  a=$(busy_ticks); sleep 2; b=$(busy_ticks)
  echo $(((b - a) * 100 / (2 * $(getconf CLK_TCK) * $(nproc))))
}
quiet=-1  # not measured in a quick run
if ((! quick)); then
  quiet=$(busy_percent)
  # Other work on a 2-core machine skews every figure: wait (up to BENCH_QUIET_WAIT) for quiet.
  waited=0
  while ((quiet >= 10 && waited < ${BENCH_QUIET_WAIT:-600})); do
    echo "bench_lake: the machine is ${quiet}% busy with other work; waiting for it to settle"
    sleep 8
    waited=$((waited + 10))
    quiet=$(busy_percent)
  done
fi
# Kernel threads (writeback, the ext4 journal, workqueues) do part of the I/O work for the servers.
kthread_ticks() {
  cat /proc/[0-9]*/stat 2>/dev/null | awk '{sub(/^.*\) /, ""); if ($2 == 2) t += $12 + $13} END {print t + 0}'
}
proc_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
start_s=$(date +%s)
busy0=$(busy_ticks)
kthread0=$(kthread_ticks)

# wrk_and_sdk SECONDS SIZE [SDK_SECONDS]: the independent clients, against each target in turn.
wrk_and_sdk() {
  local secs="$1" size="$2" sdk_secs="${3:-$1}" wrk_blobs=$((quick ? 20 : 100)) t
  echo "== wrk: SAS-signed Get Blob of 1 KiB blobs, 2 threads x 16 connections, ${secs} s"
  for t in $(order 1); do
    if record "wrk-seed@$t" 300 "$py" "$work/bin/sdk_bench.py" sas --endpoint "${URL[$t]}/devstoreaccount1" \
         --count "$wrk_blobs" --out "$work/wrk-$t.txt" && [ -s "$work/wrk-$t.txt" ]; then
      record "wrk@$t" $((secs + 60)) wrk -t2 -c16 -d"${secs}s" --timeout 10s \
        -s "$work/bin/wrk_sas_get.lua" "${URL[$t]}" -- "$work/wrk-$t.txt"
    fi
  done
  echo "== Python SDK (azure-storage-blob): $size upload and download, 1 KiB put/get at 1 client"
  for t in $(order 2); do
    record "sdk@$t" 600 "$py" "$work/bin/sdk_bench.py" run --endpoint "${URL[$t]}/devstoreaccount1" \
      --size "$size" --seconds "$sdk_secs"
  done
}
# soak SECONDS CLIENTS OBJECTS: the mixed soak on each target, with each server's peak memory
# during it.
soak() {
  local t
  echo "== mixed soak: $1 s, 80% Get Blob / 20% Put Blob over $3 objects of 16 KiB, $2 clients"
  for t in $(order 1); do
    reset_peak "$t"
    FS=soak on "$t" soak soak --duration "$1" --clients "$2" --objects "$3" --size 16KiB
    echo "{\"bench\":\"peak-rss\",\"kb\":$(peak_kb "$t"),\"ok\":true}" >"$results/soak-rss@$t.json"
  done
  reset soak
}

if ((quick)); then
  echo "== quick run (completion only, no timing is asserted)"
  limit memcpy memcpy --bytes 16MiB --repeat 2
  limit loopback loopback --bytes 64MiB
  limit fsync fsync-latency --dir "$work" --count 20
  dd_fsync dd#1 16
  for t in $(order 1); do on "$t" upload-1g#1 upload --size 16MiB; done
  for t in $(order 2); do
    # shellcheck disable=SC2046
    on "$t" download-1g#1 download $(paths_of "upload-1g#1@$t") --verify
  done
  for t in $(order 1); do on "$t" upload-8x#1 upload --size 2MiB --streams 8; done
  for t in $(order 2); do
    # shellcheck disable=SC2046
    on "$t" download-8x#1 download $(paths_of "upload-8x#1@$t") --verify
  done
  on tarnd upload-dfs upload --size 16MiB --block 4MiB
  for t in $(order 1); do
    on "$t" small-blob-16#1 small --clients 16 --ops 200 --mode blob
    on "$t" small-read-16#1 small --clients 16 --ops 200 --mode read --read-files 50
  done
  on tarnd small-dfs-16#1 small --clients 16 --ops 200
  for t in $(order 2); do on "$t" list list --paths 300 --page-size 100 --repeats 1; done
  for t in $(order 1); do on "$t" rename-100 rename --descendants 100 --repeats 2; done
  on tarnd rename-2000 rename --descendants 2000 --repeats 2
  soak 2 32 100
  wrk_and_sdk 1 1MiB 0.5
else
  echo "== physical limits"
  limit memcpy memcpy --bytes 256MiB --repeat 8
  limit loopback loopback --bytes "$(n 4096 64)MiB"
  limit fsync fsync-latency --dir "$work" --count 1000
  big="$(n 1024 16)MiB" part="$(n 256 4)MiB"
  for r in 1 2; do
    echo "== round $r: $big upload (one Put Blob; tarnd also by DFS appends, and dd conv=fsync of $big just before tarnd's)"
    for t in $(order "$r"); do
      # dd runs in tarnd's slot: how fast fresh pages fill depends on what the guest gave back to
      # the host (see the notes), so dd and tarnd's uploads meet the same memory state.
      if [ "$t" = tarnd ]; then
        quiet_disk
        dd_fsync "dd#$r" "$(n 1024 16)"
      fi
      quiet_disk
      FS="big-$r" on "$t" "upload-1g#$r" upload --size "$big"
      if [ "$t" = tarnd ]; then
        quiet_disk
        FS="big-$r" on tarnd "upload-dfs#$r" upload --size "$big" --block 64MiB
      fi
    done
    echo "== round $r: $big download, one stream (3 runs each, median)"
    for t in $(order "$r"); do
      # shellcheck disable=SC2046
      FS="big-$r" on "$t" "download-1g#$r" download $(paths_of "upload-1g#$r@$t") --repeat 3
    done
    reset "big-$r"
  done
  for r in 1 2; do
    echo "== round $r: 8 streams x $part, upload then download"
    for t in $(order "$r"); do
      quiet_disk
      FS="multi-$r" on "$t" "upload-8x#$r" upload --size "$part" --streams 8
    done
    for t in $(order "$r"); do
      # shellcheck disable=SC2046
      FS="multi-$r" on "$t" "download-8x#$r" download $(paths_of "upload-8x#$r@$t")
    done
    reset "multi-$r"
  done
  secs="$(n 10 2)"
  for c in 1 16 64; do
    for r in 1 2; do
      echo "== round $r: 1 KiB objects, $c client(s), up to 20,000 operations or $secs s each"
      for t in $(order "$r"); do
        quiet_disk
        FS="small-$c-$r" on "$t" "small-blob-$c#$r" small --clients "$c" --ops 20000 \
          --duration "$secs" --mode blob
        [ "$t" != tarnd ] || FS="small-$c-$r" on "$t" "small-dfs-$c#$r" small --clients "$c" \
          --ops 20000 --duration "$secs"
        FS="small-$c-$r" on "$t" "small-read-$c#$r" small --clients "$c" --ops 20000 \
          --duration "$secs" --mode read --read-files 500
      done
      reset "small-$c-$r"
    done
  done
  soak "$(n 60 5)" 32 1000
  wrk_and_sdk "$(n 10 2)" "$(n 64 4)MiB"
  # The big trees last: deleting them keeps Azurite busy for minutes.
  for d in 1000 10000 100000; do
    echo "== rename a directory of $(n "$d") descendants"
    for t in $(order 2); do
      if [ "$t" = tarnd ]; then
        FS="rename-$d" on "$t" "rename-$d" rename --descendants "$(n "$d")" --repeats 5
      elif (($(n "$d") <= azurite_rename_max)); then
        FS="rename-$d" on "$t" "rename-$d" rename --descendants "$(n "$d")" --repeats 1
      fi
    done
    reset "rename-$d"
  done
  echo "== listing $(n 100000) paths (3 listings each, median)"
  for t in $(order 1); do
    paths="$(n 100000)"
    [ "$t" = tarnd ] || ((paths <= azurite_list_max)) || paths="$azurite_list_max"
    FS=list on "$t" list list --paths "$paths" --repeats 3
  done
fi
elapsed=$(($(date +%s) - start_s))
# CPU seconds: the whole machine, each server, this script's children (clients, dd), kernel threads.
tck=$(getconf CLK_TCK)
busy_s=$((($(busy_ticks) - busy0) / tck))
tarnd_s=$(($(proc_ticks "${PID[tarnd]}") / tck))
azurite_s=$(((azurite_ticks + $(proc_ticks "${PID[azurite-mem]}") + $(proc_ticks "${PID[azurite-disk]}")) / tck))
children_s=$(($(awk '{print $16 + $17}' "/proc/$$/stat") / tck))
kthread_s=$((($(kthread_ticks) - kthread0) / tck))
((kthread_s < 0)) && kthread_s=0  # kernel threads that exited during the run
other_s=$((busy_s - tarnd_s - azurite_s - children_s - kthread_s))
((other_s < 0)) && other_s=0
for t in "${targets[@]}"; do
  kb="$(peak_kb "$t")"
  ((kb > ${PEAK_KB[$t]:-0})) || kb=${PEAK_KB[$t]:-0}
  echo "{\"bench\":\"peak-rss\",\"kb\":$kb,\"ok\":true}" >"$results/run-rss@$t.json"
done

commit="$(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [ -n "$(git -C "$here" status --porcelain --untracked-files=no -- src bench CMakeLists.txt cmake 2>/dev/null | head -1)" ]; then
  commit="$commit (with uncommitted changes in src/, bench/, cmake/ or CMakeLists.txt)"
fi
read -r fs_src fs_type <<<"$(fs_of "$work")"
cat >"$results/meta.json" <<EOF
{"quick": $quick, "scale": $scale, "azurite_rename_max": $azurite_rename_max,
 "azurite_list_max": $azurite_list_max,
 "date": "$(date -u '+%Y-%m-%d %H:%M UTC')", "commit": "$commit", "tarnd_built": "$tarnd_built",
 "azurite_version": "$azurite_version", "elapsed_s": $elapsed,
 "cpu": "$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)", "nproc": $(nproc),
 "mem_kb": $(awk '/MemTotal/ {print $2}' /proc/meminfo), "fs": "$fs_type on $fs_src",
 "kernel": "$(uname -r)", "busy_s": $busy_s, "tarnd_s": $tarnd_s, "azurite_s": $azurite_s,
 "children_s": $children_s, "kthread_s": $kthread_s, "other_s": $other_s, "quiet_percent": $quiet,
 "loadavg": "$(cut -d' ' -f1-3 /proc/loadavg)", "wrk": "$(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2)",
 "sdk": "azure-storage-blob $("$py" -c 'import azure.storage.blob as b; print(b.__version__)')"}
EOF
mkdir -p "$(dirname "$out")"
"$py" "$work/bin/report.py" "$results" "$out" "${out%.md}.png"
notes="$here/bench/benchmarks_notes.md"
if ((! quick)) && [ -f "$notes" ]; then cat "$notes" >>"$out"; fi
rm -rf "$kept.tmp"
cp -r "$results" "$kept.tmp"
rm -rf "$kept"
mv "$kept.tmp" "$kept"
echo "bench_lake: report written to $out and ${out%.md}.png (${elapsed} s), results in $kept"
if ((failures)); then
  echo "bench_lake: $failures workload(s) failed" >&2
  exit 1
fi
echo "bench_lake: every workload completed without errors"
exit 0
}
