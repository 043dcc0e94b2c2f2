#include "client/discovery.h"

#include <filesystem>

#include "client/http_connection.h"
#include "common/dev_account.h"

namespace tarn::client {

std::optional<std::string> FindConfig(const std::string& start, const std::string& name) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path dir = fs::absolute(start, ec);
  if (ec) return std::nullopt;
  if (fs::is_regular_file(dir, ec)) return dir.string();
  for (;;) {
    for (const fs::path& candidate :
         {dir / name, dir / ".azureml" / name, dir / "aml_config" / name}) {
      if (fs::is_regular_file(candidate, ec)) return candidate.string();
    }
    if (!dir.has_parent_path() || dir.parent_path() == dir) return std::nullopt;
    dir = dir.parent_path();
  }
}

std::optional<std::string> DevelopmentKeyFor(const std::string& endpoint) {
  auto ep = ParseEndpoint(endpoint);
  if (!ep.ok() || !IsLoopbackHost(ep->host)) return std::nullopt;
  return std::string(kDevKey);
}

}  // namespace tarn::client
