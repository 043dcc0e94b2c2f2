// ACL and permission text as ADLS Gen2 takes it in x-ms-acl and x-ms-permissions
// ("user::rwx,group::r-x,other::---,default:user:abc:r-x,mask::rwx", "rwxr-x---+", "1750"):
// lake::ParseAcl, ParseAclChange (each mode), ParsePermissions, and the round trips behind
// setAccessControl / getAccessControl:
// - what ParsePermissions accepts formats into text that parses back to the same bits;
// - an ACL that ApplyAcl accepts is shown by FormatAcl as text that parses, applies again, and
//   shows the same (a client may send back what getAccessControl returned);
// - ChangeAcl over an applied ACL leaves access fields that FormatAcl can show and that parse.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "lake/acl.h"

namespace {

using tarn::lake::AclChangeMode;

[[noreturn]] void Fail(const char* what, const std::string& text) {
  std::fprintf(stderr, "acl_fuzz: %s: '%s'\n", what, text.c_str());
  std::abort();
}

void CheckPermissions(const std::string& text) {
  auto bits = tarn::lake::ParsePermissions(text);
  if (!bits.ok()) return;
  if (*bits > 01777) Fail("permission bits out of range", text);
  for (bool extended : {false, true}) {
    std::string shown = tarn::lake::FormatPermissions(*bits, extended);
    auto again = tarn::lake::ParsePermissions(shown);
    if (!again.ok() || *again != *bits) Fail("permissions do not round-trip", text);
  }
}

// The access fields of a node after setAccessControl with `text`, or false if refused.
bool Apply(const std::string& text, bool is_dir, tarn::meta::Access* access) {
  auto entries = tarn::lake::ParseAcl(text);
  if (!entries.ok()) return false;
  std::string formatted = tarn::lake::FormatAclEntries(*entries);
  auto reparsed = tarn::lake::ParseAcl(formatted);
  if (!reparsed.ok() || tarn::lake::FormatAclEntries(*reparsed) != formatted) {
    Fail("FormatAclEntries does not round-trip", text);
  }
  return tarn::lake::ApplyAcl(*entries, is_dir, access).ok();
}

void CheckAcl(const std::string& text, bool is_dir) {
  tarn::meta::Access access;
  if (!Apply(text, is_dir, &access)) return;
  std::string shown = tarn::lake::FormatAcl(access, is_dir);
  tarn::meta::Access again;
  if (!Apply(shown, is_dir, &again)) Fail("the ACL getAccessControl shows is refused", text);
  if (tarn::lake::FormatAcl(again, is_dir) != shown) Fail("FormatAcl is not stable", text);
}

void CheckChange(const std::string& base, const std::string& change, bool is_dir) {
  for (AclChangeMode mode : {AclChangeMode::kSet, AclChangeMode::kModify, AclChangeMode::kRemove}) {
    auto entries = tarn::lake::ParseAclChange(change, mode);
    if (!entries.ok()) continue;
    tarn::meta::Access access;
    if (!base.empty() && !Apply(base, is_dir, &access)) continue;
    if (!tarn::lake::ChangeAcl(mode, *entries, is_dir, &access).ok()) continue;
    std::string shown = tarn::lake::FormatAcl(access, is_dir);
    if (!tarn::lake::ParseAcl(shown).ok()) Fail("a changed ACL shows as unparsable text", change);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const bool is_dir = in.ConsumeBool();
  std::string base = in.ConsumeRandomLengthString(512);
  std::string change = in.ConsumeRemainingBytesAsString();
  CheckPermissions(base);
  CheckPermissions(change);
  CheckAcl(base, is_dir);
  CheckAcl(change, is_dir);
  CheckChange(base, change, is_dir);
  return 0;
}
