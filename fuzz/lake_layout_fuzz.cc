// lake.yaml (layout::ParseLayout) from untrusted text, then what `tarn lake` does with a layout
// that parsed: Diff against an empty lake and against that lake after carrying the changes out.
// Checks the parser's promises: every grant names a listed group and a zone (and one of its
// domains), no two zones share a filesystem; and that a second Diff after the first's changes
// and the groups' creation asks for no new filesystem, folder or group.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>

#include "layout/lake_layout.h"

namespace {

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "lake_layout_fuzz: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using tarn::layout::Change;
  if (size > 8192) return 0;
  std::string text(reinterpret_cast<const char*>(data), size);
  auto parsed = tarn::layout::ParseLayout(text, "lake.yaml");
  if (!parsed.ok()) {
    if (parsed.status().message().rfind("lake.yaml", 0) != 0) Fail("an error without the file");
    return 0;
  }
  const auto& l = *parsed;
  std::set<std::string> filesystems;
  for (const auto& z : l.zones) {
    if (!filesystems.insert(z.filesystem).second) Fail("two zones share a filesystem");
  }
  for (const auto& g : l.access) {
    bool group = false, zone = false;
    for (const auto& name : l.groups) group = group || name == g.group;
    for (const auto& z : l.zones) {
      if (z.name != g.zone) continue;
      zone = g.domain.empty();
      for (const auto& d : z.domains) zone = zone || d == g.domain;
    }
    if (!group || !zone) Fail("a grant names what the layout does not have");
  }
  tarn::layout::Live live;
  for (const Change& c : tarn::layout::Diff(l, "acct", live)) {
    if (c.kind == Change::Kind::kCreateFilesystem) live.filesystems.insert(c.target);
    if (c.kind == Change::Kind::kCreateDirectory) live.directories.insert(c.target);
    if (c.kind == Change::Kind::kCreateGroup) live.group_ids[c.group] = "oid-" + c.group;
  }
  for (const auto& fs : live.filesystems) live.acls[fs] = "user::rwx,group::r-x,other::---";
  for (const auto& d : live.directories) live.acls[d] = "user::rwx,group::r-x,other::---";
  for (const Change& c : tarn::layout::Diff(l, "acct", live)) {
    if (c.kind == Change::Kind::kCreateFilesystem || c.kind == Change::Kind::kCreateDirectory ||
        c.kind == Change::Kind::kCreateGroup) {
      Fail("a second diff creates again what the first created");
    }
    if (c.kind == Change::Kind::kSetAcl) {
      auto acl = tarn::layout::ParseAcl(c.acl);
      if (!acl.ok() || tarn::layout::FormatAcl(*acl) != c.acl) Fail("an ACL that does not round-trip");
    }
  }
  return 0;
}
