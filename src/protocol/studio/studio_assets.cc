#include "protocol/studio/studio_assets.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "common/crypto.h"
#include "common/encoding.h"

namespace tarn::protocol {
namespace {

namespace fs = std::filesystem;

constexpr uintmax_t kMaxFile = 16u << 20;

std::string ContentType(const fs::path& p) {
  static const std::map<std::string, std::string> kTypes = {
      {".html", "text/html; charset=utf-8"},  {".js", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},    {".json", "application/json"},
      {".svg", "image/svg+xml"},              {".png", "image/png"},
      {".ico", "image/x-icon"},               {".woff2", "font/woff2"},
      {".txt", "text/plain; charset=utf-8"},  {".map", "application/json"}};
  auto it = kTypes.find(p.extension().string());
  return it == kTypes.end() ? "application/octet-stream" : it->second;
}

}  // namespace

StatusOr<StudioAssets> StudioAssets::Load(const std::string& dir) {
  StudioAssets a;
  a.dir_ = dir;
  std::error_code ec;
  if (!fs::is_regular_file(fs::path(dir) / "index.html", ec)) {
    return Status(Code::kNotFound, "no studio at " + dir + " (index.html is missing): build it "
                                   "with scripts/build.sh, or set \"studio_dir\"");
  }
  for (auto it = fs::recursive_directory_iterator(dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const fs::directory_entry& e = *it;
    if (e.is_symlink(ec)) return Status(Code::kInvalidArgument, "studio: refusing the link " +
                                                                    e.path().string());
    if (!e.is_regular_file(ec)) continue;
    if (e.file_size(ec) > kMaxFile) {
      return Status(Code::kInvalidArgument, "studio: " + e.path().string() + " is over 16 MiB");
    }
    std::ifstream in(e.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    if (!in) return Status(Code::kInternal, "studio: cannot read " + e.path().string());
    std::string rel = fs::relative(e.path(), dir).generic_string();
    StudioAsset asset{ss.str(), ContentType(e.path()), "",
                      rel.rfind("assets/", 0) == 0};
    asset.etag = "\"" + Base64UrlEncode(Sha256(asset.bytes).substr(0, 12)) + "\"";
    a.files_.emplace(std::move(rel), std::move(asset));
  }
  if (ec) return Status(Code::kInternal, "studio: cannot list " + dir + ": " + ec.message());
  return a;
}

const StudioAsset* StudioAssets::Find(std::string_view path) const {
  auto it = files_.find(path);
  return it == files_.end() ? nullptr : &it->second;
}

std::string DefaultStudioDir(const std::string& executable) {
  std::error_code ec;
  fs::path exe = fs::canonical(executable, ec);
  if (ec) return "";
  const fs::path bin = exe.parent_path();
  for (const fs::path& candidate :
       {bin / ".." / "share" / "tarn" / "studio", bin / ".." / ".." / "studio"}) {
    if (fs::is_regular_file(candidate / "index.html", ec)) {
      return fs::weakly_canonical(candidate, ec).string();
    }
  }
  return "";
}

}  // namespace tarn::protocol
