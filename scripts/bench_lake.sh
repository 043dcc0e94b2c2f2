#!/usr/bin/env bash
# The lake benchmark: tarnd's figures beside the machine's own limits, measured in one run.
#
#   bash scripts/bench_lake.sh           # full run (about 5 minutes); rewrites docs/benchmarks.md
#   bash scripts/bench_lake.sh --quick   # small sizes, under 60 s, for CI: asserts only that each
#                                        # workload completed without errors, never a timing;
#                                        # writes build/bench/quick.md, never docs/
#   options: --out FILE (where the report goes), --no-build (use the binaries already built)
#   TARND=/path/to/tarnd bash scripts/bench_lake.sh   measures that tarnd binary instead (another
#                                                       build or commit); the report names it
#
# It builds tarnd and tarn_bench (build/release), starts tarnd on 127.0.0.1 (a port it picks) with
# a fresh data directory on the same disk as the repository (never tmpfs), runs every workload
# with tarn_bench (one JSON line each, kept next to the report), measures the physical limits
# (memcpy, loopback TCP, 4 KiB write+fdatasync latency, dd conv=fsync) and writes the report.
# tarnd is stopped and the data directory removed on exit, whatever happens.
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
    -h|--help) sed -n '2,16p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "bench_lake: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
if [ -z "$out" ]; then
  if ((quick)); then out="$here/build/bench/quick.md"; else out="$here/docs/benchmarks.md"; fi
fi

if ((build)); then
  TARN_JOBS="${TARN_JOBS:-2}" bash scripts/build.sh release tarnd tarn_bench
fi
tarnd_src="${TARND:-$here/build/release/src/server/tarnd}"
for b in "$tarnd_src" "$here/build/release/bench/tarn_bench"; do
  [ -x "$b" ] || { echo "bench_lake: $b is missing (run without --no-build)" >&2; exit 1; }
done

# The data directory: /tmp only when it is on the repository's disk, else under build/.
fs_of() { df --output=source,fstype "$1" | tail -1 | tr -s " "; }
base="$here/build/bench"
if [ "$(fs_of /tmp)" = "$(fs_of "$here")" ]; then base="/tmp"; fi
mkdir -p "$here/build/bench" "$base"
work="$(mktemp -d "$base/tarn-bench.XXXXXX")"
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# Private copies of the binaries: a rebuild in the work tree during the run changes nothing.
mkdir -p "$work/bin"
cp "$tarnd_src" "$work/bin/tarnd"
cp build/release/bench/tarn_bench "$work/bin/"
tarnd="$work/bin/tarnd"
bench="$work/bin/tarn_bench"
tarnd_built="built $(date -u -r "$tarnd_src" '+%Y-%m-%d %H:%M UTC')"
if [ -n "${TARND:-}" ]; then tarnd_built="the binary $TARND, $tarnd_built"; fi
# This run's results stay private until the end (several runs may share the work tree).
results="$work/results"
mkdir -p "$results"
kept="$here/build/bench/results-$( ((quick)) && echo quick || echo full)"


"$tarnd" --listen 127.0.0.1:0 --data-dir "$work/tarnd" --log-level warn \
  >"$work/tarnd.out" 2>"$work/tarnd.err" &
pid=$!
url=""
for _ in $(seq 1 300); do
  url="$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$work/tarnd.out" 2>/dev/null | head -1 || true)"
  [ -n "$url" ] && break
  kill -0 "$pid" 2>/dev/null || { echo "bench_lake: tarnd exited:" >&2; cat "$work/tarnd.err" >&2; exit 1; }
  sleep 0.1
done
[ -n "$url" ] || { echo "bench_lake: tarnd did not start in 30 s" >&2; exit 1; }
echo "bench_lake: tarnd at $url, data in $work ($(fs_of "$work"))"

failures=0
# record KIND TIMEOUT NAME ARGS...: one tarn_bench run, bounded in time; its JSON line goes to
# NAME.json, and a failure is counted.
record() {
  local kind="$1" limit_s="$2" name="$3"; shift 3
  local line rc=0
  line="$(timeout "$limit_s" "$bench" "$@")" || rc=$?
  echo "$line" >"$results/$name.json"
  echo "  $name: $line"
  if ((rc != 0)); then
    echo "bench_lake: $kind $name failed (exit $rc)" >&2
    failures=$((failures + 1))
  fi
}
# run NAME ARGS...: a workload against tarnd.
run() { local name="$1"; shift; record workload 900 "$name" "$@" --max-seconds 600; }
# limit NAME ARGS...: a physical-limit probe (no server).
limit() { local name="$1"; shift; record probe 300 "$name" "$@"; }
# dd_fsync NAME COUNT: the disk's sequential write rate with fsync, 1 MiB blocks, as JSON.
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
# path_of NAME: the first uploaded path of an upload result, relative to the filesystem.
path_of() {
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["paths"][0].split("/",1)[1])' \
    "$results/$1.json"
}
paths_of() {
  python3 -c 'import json,sys; [print("--path", p.split("/",1)[1]) for p in json.load(open(sys.argv[1]))["paths"]]' \
    "$results/$1.json"
}

# CPU accounting, so the report can say how much else ran on the machine meanwhile.
busy_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }
busy_percent() {  # machine-wide, over two seconds
  local a b
  a=$(busy_ticks); sleep 2; b=$(busy_ticks)
  echo $(((b - a) * 100 / (2 * $(getconf CLK_TCK) * $(nproc))))
}
quiet=$(busy_percent)
if ((! quick)); then
  # Other work on a 2-core machine skews every figure: wait (up to 10 minutes) for quiet.
  for _ in $(seq 1 60); do
    ((quiet < 10)) && break
    echo "bench_lake: the machine is ${quiet}% busy with other work; waiting for it to settle"
    sleep 8
    quiet=$(busy_percent)
  done
fi
# Kernel threads (writeback, the ext4 journal, workqueues) do part of the I/O work for tarnd.
kthread_ticks() {
  cat /proc/[0-9]*/stat 2>/dev/null | awk '{sub(/^.*\) /, ""); if ($2 == 2) t += $12 + $13} END {print t + 0}'
}
T=(--url "$url")
start_s=$(date +%s)
busy0=$(busy_ticks)
kthread0=$(kthread_ticks)
if ((quick)); then
  echo "== quick run (completion only, no timing is asserted)"
  limit memcpy memcpy --bytes 16MiB --repeat 2
  limit loopback loopback --bytes 64MiB
  limit fsync fsync-latency --dir "$work" --count 20
  dd_fsync dd-1 16
  run upload-1 upload "${T[@]}" --size 16MiB
  run upload-dfs upload "${T[@]}" --size 16MiB --block 4MiB --streams 2
  run download download "${T[@]}" --path "$(path_of upload-1)" --verify
  # shellcheck disable=SC2046
  run download-dfs download "${T[@]}" $(paths_of upload-dfs) --verify
  run small-write-16 small "${T[@]}" --clients 16 --ops 300
  run small-blob-16 small "${T[@]}" --clients 16 --ops 300 --mode blob
  run small-read-16 small "${T[@]}" --clients 16 --ops 300 --mode read --read-files 100
  run rename-10 rename "${T[@]}" --descendants 10
  run rename-100000 rename "${T[@]}" --descendants 2000
  run list list "${T[@]}" --paths 1500 --page-size 500 --repeats 1
else
  echo "== physical limits"
  limit memcpy memcpy --bytes 256MiB --repeat 8
  limit loopback loopback --bytes 4GiB
  limit fsync fsync-latency --dir "$work" --count 1000
  echo "== 1 GiB upload (Put Blob), interleaved with dd conv=fsync, 3 rounds"
  for i in 1 2 3; do
    dd_fsync "dd-$i" 1024
    run "upload-$i" upload "${T[@]}" --size 1GiB
  done
  run upload-dfs upload "${T[@]}" --size 1GiB --block 64MiB
  echo "== 1 GiB download (the file is in the page cache)"
  run download download "${T[@]}" --path "$(path_of upload-1)" --repeat 5
  echo "== 8 streams x 256 MiB"
  run upload-8x upload "${T[@]}" --size 256MiB --streams 8
  # shellcheck disable=SC2046
  run download-8x download "${T[@]}" $(paths_of upload-8x) --repeat 3
  echo "== 1 KiB files"
  run small-write-1 small "${T[@]}" --clients 1 --ops 2000
  run small-write-16 small "${T[@]}" --clients 16 --ops 20000
  run small-write-64 small "${T[@]}" --clients 64 --ops 20000
  run small-blob-16 small "${T[@]}" --clients 16 --ops 20000 --mode blob
  run small-read-16 small "${T[@]}" --clients 16 --ops 20000 --mode read
  echo "== directory rename (one DFS rename; 5 renames back and forth, median)"
  for n in 10 1000 10000 100000; do
    run "rename-$n" rename "${T[@]}" --descendants "$n" --repeats 5
  done
  echo "== listing"
  run list list "${T[@]}" --paths 100000 --repeats 3
fi
elapsed=$(($(date +%s) - start_s))
peak_kb="$(awk '/VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)"
# CPU seconds: the whole machine, tarnd, and this script's children (tarn_bench, dd).
tck=$(getconf CLK_TCK)
busy_s=$((($(busy_ticks) - busy0) / tck))
tarnd_s=$(($(awk '{print $14 + $15}' "/proc/$pid/stat") / tck))
children_s=$(($(awk '{print $16 + $17}' "/proc/$$/stat") / tck))
kthread_s=$((($(kthread_ticks) - kthread0) / tck))
other_s=$((busy_s - tarnd_s - children_s - kthread_s))
((other_s < 0)) && other_s=0

# The machine.
cpu="$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
mem_kb="$(awk '/MemTotal/ {print $2}' /proc/meminfo)"
read -r fs_src fs_type <<<"$(fs_of "$work")"
commit="$(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [ -n "$(git -C "$here" status --porcelain --untracked-files=no -- src CMakeLists.txt cmake 2>/dev/null | head -1)" ]; then
  commit="$commit (with uncommitted changes in src/, cmake/ or CMakeLists.txt)"
fi

mkdir -p "$(dirname "$out")"
python3 - "$results" "$out" <<PY
import json, os, statistics, sys
res, out = sys.argv[1], sys.argv[2]
r = {}
for f in sorted(os.listdir(res)):
    if f.endswith(".json"):
        try:
            r[f[:-5]] = json.load(open(os.path.join(res, f)))
        except ValueError:
            r[f[:-5]] = {"ok": False}
quick = ${quick}
def g(name, key, default=None):
    return r.get(name, {}).get(key, default)
def med(names, key):
    v = [g(n, key) for n in names if g(n, key) is not None]
    return statistics.median(v) if v else None
def f(v, fmt="{:,.0f}"):
    return "n/a" if v is None else fmt.format(v)
def ratio(a, b):
    return None if a is None or not b else a / b

dd = med([n for n in r if n.startswith("dd-")], "mb_s")
up = med([n for n in r if n.startswith("upload-") and n[7:].isdigit()], "mb_s")
down = g("download", "mb_s")
loop = g("loopback", "mb_s")
small16 = g("small-write-16", "ops_s")
fs_p50 = g("fsync", "p50_ms")
ren_small = g("rename-10", "seconds")
big = "rename-100000"
ren_big = g(big, "seconds")
rows = []
def row(what, value, limit, rat, target, met):
    rows.append("| %s | %s | %s | %s | %s | %s |" % (what, value, limit, rat, target, met))
def verdict(ok):
    return "n/a" if ok is None else ("**met**" if ok else "**missed**")
u_r = ratio(up, dd)
row("1 GiB upload, one stream (Put Blob)", f(up) + " MB/s", f(dd) + " MB/s (dd conv=fsync)",
    f(u_r, "{:.0%}"), ">= 80% of dd", verdict(None if u_r is None else u_r >= 0.8))
d_r = ratio(down, loop)
row("1 GiB download, one stream, page cache", f(down) + " MB/s",
    f(loop) + " MB/s (loopback TCP)", f(d_r, "{:.0%}"), ">= 1,500 MB/s",
    verdict(None if down is None else down >= 1500))
row("1 KiB create+append+flush, 16 clients", f(small16) + " /s",
    (f(fs_p50, "{:.3f}") + " ms per 4 KiB write+fdatasync") if fs_p50 else "n/a",
    f(ratio(small16, 1000.0 / fs_p50) if fs_p50 else None, "{:.2f}") + " of 1/fsync",
    ">= 3,000 /s", verdict(None if small16 is None else small16 >= 3000))
rr = ratio(ren_big, ren_small)
row("rename, %s vs 10 descendants" % f(g(big, "descendants")),
    f(ren_big * 1000 if ren_big else None, "{:.2f}") + " ms vs " +
    f(ren_small * 1000 if ren_small else None, "{:.2f}") + " ms", "-", f(rr, "{:.2f}x"),
    "within 2x", verdict(None if rr is None else rr <= 2.0))

def lat(n):
    return "%s /s, p50 %s ms, p99 %s ms" % (f(g(n, "ops_s")), f(g(n, "p50_ms"), "{:.2f}"),
                                           f(g(n, "p99_ms"), "{:.2f}"))
detail = []
def d(what, text):
    detail.append("| %s | %s |" % (what, text))
for n in sorted(r):
    if n.startswith("upload-") and n[7:].isdigit():
        d("upload " + n[7:] + " (1 stream, Put Blob)", f(g(n, "mb_s")) + " MB/s")
    if n.startswith("dd-"):
        d("dd conv=fsync " + n[3:], f(g(n, "mb_s")) + " MB/s")
if "upload-dfs" in r:
    d("upload, DFS create + %s appends + flush, %d stream(s)" % (
        f(g("upload-dfs", "block", 0) / 2**20, "{:.0f} MiB"), g("upload-dfs", "streams", 1)),
      f(g("upload-dfs", "mb_s")) + " MB/s")
if "download" in r:
    d("download runs (1 stream)", ", ".join(f(x) for x in g("download", "runs_mb_s", [])) + " MB/s")
if "download-dfs" in r:
    d("download of the DFS uploads", f(g("download-dfs", "mb_s")) + " MB/s")
if "upload-8x" in r:
    d("upload, 8 streams x 256 MiB (Put Blob)", f(g("upload-8x", "mb_s")) + " MB/s in all")
if "download-8x" in r:
    d("download, 8 streams x 256 MiB", f(g("download-8x", "mb_s")) + " MB/s in all")
for n, what in [("small-write-1", "1 KiB create+append+flush, 1 client"),
                ("small-write-16", "1 KiB create+append+flush, 16 clients"),
                ("small-write-64", "1 KiB create+append+flush, 64 clients"),
                ("small-blob-16", "1 KiB Put Blob, 16 clients"),
                ("small-read-16", "1 KiB Get Blob, 16 clients")]:
    if n in r:
        d(what + " (%s ops)" % f(g(n, "ops")), lat(n))
for n in sorted((k for k in r if k.startswith("rename-")), key=lambda k: g(k, "descendants", 0)):
    d("rename, %s descendants" % f(g(n, "descendants")),
      "median %s ms (first %s ms; runs %s ms); tree built at %s paths/s" % (
          f(g(n, "seconds", 0) * 1000, "{:.2f}"), f(g(n, "first_seconds", 0) * 1000, "{:.2f}"),
          ", ".join(f(x * 1000, "{:.2f}") for x in g(n, "runs_seconds", [])),
          f(g(n, "build_paths_s"))))
if "list" in r:
    d("list %s paths recursively (%s pages)" % (f(g("list", "paths")), f(g("list", "pages"))),
      "%s s, %s paths/s" % (f(g("list", "seconds"), "{:.2f}"), f(g("list", "paths_s"))))
d("memcpy", f(g("memcpy", "gb_s"), "{:.1f}") + " GB/s")
d("loopback TCP, one stream", f(loop) + " MB/s")
if "fsync" in r:
    d("4 KiB write+fdatasync (appending)", "p50 %s ms, p99 %s ms" % (
        f(g("fsync", "p50_ms"), "{:.3f}"), f(g("fsync", "p99_ms"), "{:.3f}")))
    d("4 KiB write+fdatasync (in place)", "p50 %s ms, p99 %s ms" % (
        f(g("fsync", "overwrite_p50_ms"), "{:.3f}"), f(g("fsync", "overwrite_p99_ms"), "{:.3f}")))
d("tarnd peak resident memory", f(${peak_kb:-0} / 1024, "{:.0f} MiB"))

failed = [n for n in r if not r[n].get("ok", False)]
text = open(out + ".tmp", "w")
w = lambda s="": text.write(s + "\n")
w("# Benchmarks" + (" (quick run: sizes too small to mean anything)" if quick else ""))
w()
w("Measured by \`scripts/bench_lake.sh\` on %s, commit %s (tarnd: %s), in %s s." % (
    "$(date -u '+%Y-%m-%d %H:%M UTC')", "${commit}", "${tarnd_built}", "${elapsed}"))
w("tarnd (SQLite namespace store, local-disk extents) and the client, \`tarn_bench\` (Tarn's own")
w("C++ HTTP client with Shared Key signing), ran on the same machine over loopback; the limits")
w("were measured in the same run. MB/s means 10^6 bytes per second.")
w()
w("## Machine")
w()
w("| | |")
w("| --- | --- |")
w("| CPU | ${cpu} |")
w("| cores (nproc) | $(nproc) |")
w("| memory | %s GiB |" % f(${mem_kb} / 2**20, "{:.1f}"))
w("| data filesystem | ${fs_type} on ${fs_src} |")
w("| kernel | $(uname -r) |")
w("| CPU time during the run | %s s busy of %s s (%s cores x %s s): tarnd %s s, tarn_bench and dd %s s, kernel threads %s s, everything else (interrupts, other processes) about %s s; the machine was %s%% busy just before |" % (
    "${busy_s}", $(nproc) * ${elapsed}, "$(nproc)", "${elapsed}", "${tarnd_s}", "${children_s}", "${kthread_s}", "${other_s}", "${quiet}"))
w()
if not quick and ${other_s} > 0.05 * $(nproc) * ${elapsed}:
    w("**This run was disturbed:** other work took about %d%% of the machine's CPU while it ran; the"
      % round(100.0 * ${other_s} / ($(nproc) * ${elapsed})))
    w("short workloads (download, reads, small files) read low. Rerun on a quiet machine.")
    w()
w("## Targets (issue 2, section 6)")
w()
w("| workload | tarnd | physical limit | ratio | target | |")
w("| --- | --- | --- | --- | --- | --- |")
for x in rows: w(x)
w()
w("## All figures")
w()
w("| workload | result |")
w("| --- | --- |")
for x in detail: w(x)
w()
if failed:
    w("**Workloads that did not complete cleanly:** " + ", ".join(sorted(failed)))
    w()
w("The raw JSON line of every workload is kept in \`build/bench/results-%s/\` after a run." % ("quick" if quick else "full"))
w()
text.close()
os.replace(out + ".tmp", out)
PY
# The hand-written analysis, if any, follows the generated part (kept between runs).
notes="$here/bench/benchmarks_notes.md"
if ((! quick)) && [ -f "$notes" ]; then cat "$notes" >>"$out"; fi
cat >>"$out" <<EOF
## How to rerun

On a Debian 12 machine with the build dependencies (\`bash scripts/bootstrap.sh\` as root):

\`\`\`sh
bash scripts/bench_lake.sh            # full run, about $((elapsed / 60 + 1)) minutes here; rewrites docs/benchmarks.md
bash scripts/bench_lake.sh --quick    # under a minute; completion only, for CI
\`\`\`

Single workloads, against any tarnd on loopback:

\`\`\`sh
B=build/release/bench/tarn_bench U=http://127.0.0.1:PORT
\$B upload   --url \$U --size 1GiB                  # Put Blob; --block 64MiB for DFS appends
\$B download --url \$U --path <path from upload> --repeat 5
\$B small    --url \$U --clients 16 --ops 20000     # --mode blob | read
\$B rename   --url \$U --descendants 100000
\$B list     --url \$U --paths 100000
\$B memcpy; \$B loopback; \$B fsync-latency --dir <dir on the disk>
dd if=/dev/zero of=<dir on the disk>/dd.bin bs=1M count=1024 conv=fsync
\`\`\`
EOF
rm -rf "$kept.tmp"
cp -r "$results" "$kept.tmp"
rm -rf "$kept"
mv "$kept.tmp" "$kept"
echo "bench_lake: report written to $out (${elapsed} s), results in $kept"
if ((failures)); then
  echo "bench_lake: $failures workload(s) failed" >&2
  exit 1
fi
echo "bench_lake: every workload completed without errors"
