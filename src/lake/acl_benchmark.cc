// Google Benchmark: POSIX ACL evaluation along a deep path, as the authorization of one request
// by a principal that no role covers does it (execute on 19 ancestors, read on the file).
//
//   build/release/src/lake/tarn_acl_benchmark
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "lake/acl.h"

namespace tarn::lake {
namespace {

// 20 levels, each with 30 ACL entries: named users and groups (the caller matches none of the
// users and one group at the last level, so every check walks the whole list).
std::vector<meta::Access> MakeChain(int levels, int entries) {
  std::vector<meta::Access> chain;
  for (int l = 0; l < levels; ++l) {
    std::string text = "user::rwx,group::r-x,other::--x";
    for (int e = 0; e < entries - 4; ++e) {
      text += (e % 2 ? ",group:g-" : ",user:u-") + std::to_string(l) + "-" + std::to_string(e) +
              ":r-x";
    }
    text += ",mask::r-x";
    meta::Access a;
    a.owner = "owner-" + std::to_string(l);
    a.group = "staff";
    auto parsed = ParseAcl(text);
    if (!parsed.ok() || !ApplyAcl(*parsed, true, &a).ok()) std::abort();
    chain.push_back(a);
  }
  return chain;
}

void BM_AclPathCheck(benchmark::State& state) {
  const auto chain = MakeChain(static_cast<int>(state.range(0)), static_cast<int>(state.range(1)));
  AclPrincipal who{"caller", {"g-a", "g-b", "g-c", "g-19-29"}};
  for (auto _ : state) {
    bool ok = true;
    for (size_t i = 0; i + 1 < chain.size(); ++i) ok = ok && AclPermits(chain[i], who, 1);
    ok = ok && AclPermits(chain.back(), who, 4);
    benchmark::DoNotOptimize(ok);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AclPathCheck)->Args({20, 30})->Args({5, 4});

}  // namespace
}  // namespace tarn::lake

BENCHMARK_MAIN();
