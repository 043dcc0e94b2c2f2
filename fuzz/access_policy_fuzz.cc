// Set Container ACL bodies (protocol/access_policy.h): the <SignedIdentifiers> document. What is
// accepted has at most 5 policies with unique ids of 1 to 64 characters and permission letters
// each at most once, and its stored form parses again to the same policies, each found by id.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "protocol/access_policy.h"

namespace {

[[noreturn]] void Fail(const char* what, std::string_view input) {
  std::fprintf(stderr, "access_policy_fuzz: %s: %.*s\n", what, static_cast<int>(input.size()),
               input.data());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  auto parsed = tarn::protocol::ParseSignedIdentifiers(body);
  if (!parsed.ok()) return 0;
  if (parsed->size() > tarn::protocol::kMaxAccessPolicies) Fail("more than 5 policies", body);
  const std::string stored = tarn::protocol::FormatSignedIdentifiers(*parsed);
  if (parsed->empty() != stored.empty()) Fail("no policy must store nothing", body);
  auto again = tarn::protocol::ParseSignedIdentifiers(stored);
  if (!again.ok()) Fail("the stored document does not parse again", body);
  if (*again != *parsed) Fail("the policies changed on the way through storage", body);
  for (const auto& p : *parsed) {
    if (p.id.empty() || p.id.size() > 64) Fail("an id outside 1 to 64 characters", body);
    auto found = tarn::protocol::FindAccessPolicy(stored, p.id);
    if (!found || *found != p) Fail("a stored policy is not found by its id", body);
  }
  return 0;
}
