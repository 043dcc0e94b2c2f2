// The sign-in `tarn login` keeps (~/.tarn/login.json), read back by the CLI and the SDK:
// client::ParseLogin on any text. A login that parses has what a sign-in needs, and writing it
// out (FormatLogin) and reading that again gives the same login.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "client/login_cache.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using tarn::client::Login;
  std::string text(reinterpret_cast<const char*>(data), size);
  auto parsed = tarn::client::ParseLogin(text, "login.json");
  if (!parsed.ok()) return 0;
  const Login& l = *parsed;
  if (l.endpoint.empty() || l.authority.empty() || l.tenant.empty() || l.refresh_token.empty() ||
      l.client_id.empty()) {
    std::fprintf(stderr, "login_fuzz: a login without what a sign-in needs\n");
    std::abort();
  }
  auto again = tarn::client::ParseLogin(tarn::client::FormatLogin(l), "login.json");
  if (!again.ok() || again->endpoint != l.endpoint || again->authority != l.authority ||
      again->tenant != l.tenant || again->client_id != l.client_id ||
      again->username != l.username || again->refresh_token != l.refresh_token ||
      again->ca_file != l.ca_file || again->account != l.account) {
    std::fprintf(stderr, "login_fuzz: a login that does not survive being written\n");
    std::abort();
  }
  return 0;
}
