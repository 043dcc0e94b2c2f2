#!/usr/bin/env bash
# The libFuzzer targets of fuzz/: builds them with clang into build/fuzz and runs each for a
# bounded time over its seed corpus (fuzz/corpus/<target>/, or fuzz/corpus/<target without _fuzz>/).
#
#   bash scripts/fuzz.sh                          # every target, 30 s each
#   bash scripts/fuzz.sh --seconds 300 acl_fuzz request_pipeline_fuzz
#   bash scripts/fuzz.sh --regress                # each target once over its corpus (-runs=0):
#                                                 # quick, for the test command
#   options: --no-build (use the binaries already built)
#            --keep-going (fork mode: go on past crashes, timeouts and OOMs to find more than
#            one; each is still reported and fails the run. Fork mode leaves out corpus inputs
#            that crash: --regress is what replays them)
#            --skip-known (fuzz past the known crashes: leave out the corpus's crash-* inputs,
#            which --regress replays, so that a target with an open finding still fuzzes)
#   environment:
#     TARN_FUZZ_STRICT=0   a 500 from the request pipeline is not a crash (default: it is)
#     TARN_JOBS=N          build parallelism (default: all cores)
#
# Inputs the fuzzer finds go to build/fuzz/work/<target>/corpus (kept between runs; the seed
# corpus in the repository is only read). A crash, leak, timeout or out-of-memory leaves its input
# in build/fuzz/work/<target>/; the script prints the input's path, its base64 and the report's
# summary, goes on with the other targets, and exits non-zero. A crash that reproduces belongs in
# fuzz/corpus/<target>/crash-<what> (and a unit test), so that --regress replays it from then on.
#
# The targets that run the request pipeline move themselves into a network namespace of their
# own with only loopback up (pipeline_fixture.h): run as root, or where user namespaces are
# allowed. It installs nothing but clang (scripts/bootstrap.sh) when clang++-14 is missing.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"

seconds=30
mode=fuzz
build=1
keep_going=0
skip_known=0
targets=()
while (($#)); do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --seconds=*) seconds="${1#*=}"; shift ;;
    --regress) mode=regress; shift ;;
    --no-build) build=0; shift ;;
    --keep-going) keep_going=1; shift ;;
    --skip-known) skip_known=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
    *) targets+=("${1%.cc}"); shift ;;
  esac
done
if ((${#targets[@]} == 0)); then
  for f in fuzz/*_fuzz.cc; do targets+=("$(basename "$f" .cc)"); done
fi

command -v clang++-14 >/dev/null 2>&1 || bash scripts/bootstrap.sh
dir="$here/build/fuzz"
if ((build)); then
  export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
  # Paths relative to the checkout in ccache's hashes: a fresh clone elsewhere reuses the cache.
  export CCACHE_BASEDIR="$here" CCACHE_NOHASHDIR=1
  if [ ! -f "$dir/build.ninja" ]; then
    cmake -S "$here" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCMAKE_CXX_COMPILER=clang++-14 -DTARN_FUZZ=ON -DBUILD_TESTING=OFF \
      -DTARN_BUILD_BENCH=OFF >/dev/null
  fi
  cmake --build "$dir" -j "${TARN_JOBS:-$(nproc)}" --target "${targets[@]}"
fi

# The pipeline targets' data directories: on tmpfs when there is one, removed at the end.
scratch_base=/dev/shm
[ -w "$scratch_base" ] || scratch_base="$dir/work"
mkdir -p "$dir/work"
export TARN_FUZZ_TMP="$(mktemp -d "$scratch_base/tarn-fuzz-run.XXXXXX")"
trap 'rm -rf "$TARN_FUZZ_TMP"' EXIT
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

final_stat() {  # final_stat <name> <log>: a -print_final_stats value
  sed -n "s/^stat::$1: *//p" "$2" | tail -1
}
last_count() {  # last_count <key> <log>: the last "<key>: N" (or "<key> N") libFuzzer printed
  { grep -oE "$1:? [0-9]+" "$2" || true; } | tail -1 | sed 's/.* //'
}

passed=0
failed=0
summary=()
for t in "${targets[@]}"; do
  bin="$dir/fuzz/$t"
  seeds="$here/fuzz/corpus/$t"
  # fuzz/corpus/<target>/, or fuzz/corpus/<target without _fuzz>/.
  [ -d "$seeds" ] || [ ! -d "$here/fuzz/corpus/${t%_fuzz}" ] || seeds="$here/fuzz/corpus/${t%_fuzz}"
  work="$dir/work/$t"
  if [ ! -x "$bin" ]; then
    echo "fuzz.sh: $bin is not built" >&2
    exit 2
  fi
  mkdir -p "$work/corpus"
  dirs=("$work/corpus")
  if [ -d "$seeds" ]; then
    cp -n "$seeds"/* "$work/corpus/" 2>/dev/null || true
    dirs+=("$seeds")
  fi
  if ((skip_known)); then
    rm -f "$work/corpus"/crash-*
    dirs=("$work/corpus")
  fi
  log="$work/$mode.log"
  before="$(mktemp)"
  ls "$work" >"$before"
  common=(-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$work/")
  if ((keep_going)) && [ "$mode" = fuzz ]; then
    common+=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
  fi
  start=$SECONDS
  if [ "$mode" = regress ]; then
    if [ ! -d "$seeds" ]; then
      echo "== $t: no corpus in fuzz/corpus/$t"
      summary+=("$t: no corpus")
      passed=$((passed + 1))
      continue
    fi
    echo "== $t: replaying $(ls "$seeds" | wc -l) corpus inputs"
    # Only the repository's corpus: what --regress promises is that these inputs pass.
    rc=0
    timeout 600 "$bin" -runs=0 "${common[@]}" "$seeds" >"$log" 2>&1 || rc=$?
  else
    echo "== $t: fuzzing for ${seconds}s"
    rc=0
    timeout $((seconds + 300)) "$bin" -max_total_time="$seconds" "${common[@]}" "${dirs[@]}" \
      >"$log" 2>&1 || rc=$?
  fi
  elapsed=$((SECONDS - start))
  execs="$(final_stat number_of_executed_units "$log")"
  rate="$(final_stat average_exec_per_sec "$log")"
  # Fork mode (--keep-going) prints no final stats: its last status line has the rate.
  rate="${rate:-$(last_count exec/s "$log")}"
  cov="$(last_count cov "$log")"
  ft="$(last_count ft "$log")"
  corp="$(last_count corp "$log")"
  artifacts=()
  while IFS= read -r a; do
    [ -n "$a" ] && artifacts+=("$work/$a")
  done < <(ls "$work" | grep -E '^(crash|leak|timeout|oom|slow-unit)-' |
             grep -vxF -f "$before" || true)
  rm -f "$before"
  crashes=${#artifacts[@]}
  # Fork mode counts what its jobs found (their artifacts may share names with older ones).
  forked="$({ grep -oE 'oom/timeout/crash: [0-9]+/[0-9]+/[0-9]+' "$log" || true; } | tail -1 |
            sed 's/.* //')"
  if [ -n "$forked" ]; then
    IFS=/ read -r n_oom n_timeout n_crash <<<"$forked"
    forked=$((n_oom + n_timeout + n_crash))
    ((forked > crashes)) && crashes=$forked
  fi
  if ((rc != 0 && crashes == 0)); then crashes=1; fi
  line="$t: ${elapsed}s execs=${execs:-?} exec/s=${rate:-?} cov=${cov:-?} ft=${ft:-?}"
  line+=" corpus=${corp:-?} crashes=$crashes"
  summary+=("$line")
  if ((crashes == 0)); then
    passed=$((passed + 1))
    continue
  fi
  failed=$((failed + 1))
  echo "!! $t failed (exit $rc); log: $log"
  grep -E '^(==[0-9]+==ERROR|SUMMARY:|pipeline_fixture|====|request:|reply:|.*_fuzz: )' "$log" |
    head -20 || true
  grep -E '^ +#[0-9]+ ' "$log" | head -12 || true
  for a in "${artifacts[@]}"; do
    echo "input: $a"
    echo "base64: $(base64 -w0 "$a")"
  done
done

echo "== fuzz summary ($mode)"
for line in "${summary[@]}"; do echo "$line"; done
echo "fuzz: $passed passed, $failed failed"
((failed == 0))
