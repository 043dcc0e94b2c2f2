#!/usr/bin/env bash
# Configures and builds Tarn. Usage: scripts/build.sh [release|asan] [targets...]
#   release: build/release (RelWithDebInfo), the binaries the demo, tests and benchmarks use
#   asan:    build/asan, AddressSanitizer + UndefinedBehaviorSanitizer, for the unit tests
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
kind="${1:-release}"
shift || true
case "$kind" in
  release) flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo) ;;
  asan) flags=(-DCMAKE_BUILD_TYPE=Debug -DTARN_SANITIZE=ON) ;;
  *) echo "usage: $0 [release|asan] [targets...]" >&2; exit 2 ;;
esac
dir="$here/build/$kind"
# Paths relative to the checkout in ccache's hashes: a fresh clone elsewhere reuses the cache.
export CCACHE_BASEDIR="$here" CCACHE_NOHASHDIR=1
jobs="${TARN_JOBS:-$(nproc)}"
if [ ! -f "$dir/build.ninja" ]; then
  cmake -S "$here" -B "$dir" -G Ninja "${flags[@]}" >/dev/null
fi
if (($#)); then
  cmake --build "$dir" -j "$jobs" --target "$@"
else
  cmake --build "$dir" -j "$jobs"
fi
