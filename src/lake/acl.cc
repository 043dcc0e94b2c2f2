#include "lake/acl.h"

#include <algorithm>

#include "common/strings.h"

namespace tarn::lake {
namespace {

Status Bad(const std::string& what) {
  return Error(Reason::kInvalidHeaderValue, what);
}

bool ParseRwx(const std::string& s, uint32_t* out) {
  if (s.size() != 3) return false;
  uint32_t v = 0;
  const char want[3] = {'r', 'w', 'x'};
  for (int i = 0; i < 3; ++i) {
    if (s[i] == want[i]) {
      v |= 4u >> i;
    } else if (s[i] != '-') {
      return false;
    }
  }
  *out = v;
  return true;
}

std::string Rwx(uint32_t v) {
  std::string s = "---";
  if (v & 4) s[0] = 'r';
  if (v & 2) s[1] = 'w';
  if (v & 1) s[2] = 'x';
  return s;
}

}  // namespace

StatusOr<uint32_t> ParsePermissions(const std::string& text) {
  std::string t = text;
  if (!t.empty() && t.back() == '+') t.pop_back();
  if (t.size() == 3 || t.size() == 4) {
    uint32_t v = 0;
    for (char c : t) {
      if (c < '0' || c > '7') return Bad("Invalid permissions: " + text);
      v = v * 8 + static_cast<uint32_t>(c - '0');
    }
    if (v > 01777 || (t.size() == 4 && (v >> 9) > 1)) return Bad("Invalid permissions: " + text);
    return v;
  }
  if (t.size() != 9) return Bad("Invalid permissions: " + text);
  uint32_t v = 0;
  std::string last = t.substr(6, 3);
  bool sticky = false;
  if (last[2] == 't') {
    sticky = true;
    last[2] = 'x';
  } else if (last[2] == 'T') {
    sticky = true;
    last[2] = '-';
  }
  uint32_t u, g, o;
  if (!ParseRwx(t.substr(0, 3), &u) || !ParseRwx(t.substr(3, 3), &g) || !ParseRwx(last, &o)) {
    return Bad("Invalid permissions: " + text);
  }
  v = (u << 6) | (g << 3) | o;
  if (sticky) v |= 01000;
  return v;
}

std::string FormatPermissions(uint32_t bits, bool extended) {
  std::string s = Rwx((bits >> 6) & 7) + Rwx((bits >> 3) & 7) + Rwx(bits & 7);
  if (bits & 01000) s[8] = (bits & 1) ? 't' : 'T';
  if (extended) s += '+';
  return s;
}

StatusOr<std::vector<AclEntry>> ParseAcl(const std::string& text) {
  std::vector<AclEntry> out;
  size_t start = 0;
  while (start <= text.size() && !text.empty()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    std::string item = text.substr(start, comma - start);
    start = comma + 1;
    AclEntry e;
    if (item.rfind("default:", 0) == 0) {
      e.is_default = true;
      item = item.substr(8);
    }
    size_t c1 = item.find(':');
    size_t c2 = c1 == std::string::npos ? c1 : item.find(':', c1 + 1);
    if (c2 == std::string::npos) return Bad("Invalid ACL entry: " + item);
    e.type = item.substr(0, c1);
    e.id = item.substr(c1 + 1, c2 - c1 - 1);
    if (e.type != "user" && e.type != "group" && e.type != "mask" && e.type != "other") {
      return Bad("Invalid ACL entry type: " + item);
    }
    if ((e.type == "mask" || e.type == "other") && !e.id.empty()) {
      return Bad("Invalid ACL entry: " + item);
    }
    if (!ParseRwx(item.substr(c2 + 1), &e.perms)) return Bad("Invalid ACL permissions: " + item);
    out.push_back(std::move(e));
    if (comma == text.size()) break;
  }
  return out;
}

std::string FormatAclEntries(const std::vector<AclEntry>& entries) {
  std::string s;
  for (const auto& e : entries) {
    if (!s.empty()) s += ',';
    if (e.is_default) s += "default:";
    s += e.type + ":" + e.id + ":" + Rwx(e.perms);
  }
  return s;
}

Status ApplyAcl(const std::vector<AclEntry>& entries, bool is_dir, meta::Access* access) {
  std::vector<AclEntry> named, defaults;
  int access_count = 0;
  bool have_user = false, have_group = false, have_other = false;
  uint32_t u = 0, g = 0, o = 0;
  std::optional<uint32_t> mask;
  for (const auto& e : entries) {
    if (e.is_default) {
      if (!is_dir) return Bad("Default ACL entries are only allowed on directories.");
      defaults.push_back(e);
      continue;
    }
    ++access_count;
    if (e.type == "user" && e.id.empty()) {
      have_user = true;
      u = e.perms;
    } else if (e.type == "group" && e.id.empty()) {
      have_group = true;
      g = e.perms;
    } else if (e.type == "other") {
      have_other = true;
      o = e.perms;
    } else if (e.type == "mask") {
      mask = e.perms;
    } else {
      named.push_back(e);
    }
  }
  // Named entries imply a mask, which getAccessControl shows: count it, so that what is read
  // back can always be set again.
  const int shown = access_count + (!mask && !named.empty() ? 1 : 0);
  if (shown > 32 || defaults.size() > 32) {
    return Bad("An ACL may hold at most 32 access and 32 default entries (a mask, implied by "
               "named entries, counts).");
  }
  if (!have_user || !have_group || !have_other) {
    return Bad("An ACL must contain user::, group:: and other:: entries.");
  }
  // The owning group's bits are shown through the mask when there is one.
  std::vector<AclEntry> ext;
  if (mask || !named.empty()) {
    AclEntry owning_group{false, "group", "", g};
    ext.push_back(owning_group);
    ext.insert(ext.end(), named.begin(), named.end());
    uint32_t m = mask.value_or(7);
    ext.push_back(AclEntry{false, "mask", "", m});
    g = m;
  }
  access->permissions = (access->permissions & 01000) | (u << 6) | (g << 3) | o;
  access->acl = FormatAclEntries(ext);
  access->default_acl = FormatAclEntries(defaults);
  return Status::Ok();
}

std::string FormatAcl(const meta::Access& a, bool is_dir) {
  uint32_t p = a.permissions;
  std::vector<AclEntry> users, groups;
  uint32_t owning_group = (p >> 3) & 7;
  bool extended = false;
  auto ext = ParseAcl(a.acl);
  if (ext.ok()) {
    for (const auto& e : *ext) {
      extended = true;
      if (e.type == "group" && e.id.empty()) {
        owning_group = e.perms;
      } else if (e.type == "user") {
        users.push_back(e);
      } else if (e.type == "group") {
        groups.push_back(e);
      }
    }
  }
  // Azure's order: owner, named users, owning group, named groups, mask, other.
  std::vector<AclEntry> out;
  out.push_back({false, "user", "", (p >> 6) & 7});
  out.insert(out.end(), users.begin(), users.end());
  out.push_back({false, "group", "", owning_group});
  out.insert(out.end(), groups.begin(), groups.end());
  if (extended) out.push_back({false, "mask", "", (p >> 3) & 7});
  out.push_back({false, "other", "", p & 7});
  std::string s = FormatAclEntries(out);
  if (is_dir && !a.default_acl.empty()) s += "," + a.default_acl;
  return s;
}

namespace {

// One stored access entry, viewed in place: "type:id:rwx" (canonical text, as ApplyAcl wrote it).
struct EntryView {
  std::string_view type, id;
  uint32_t perms = 0;
};

// Calls fn for each stored entry without allocating; the text is canonical, so no validation.
template <typename Fn>
void ForEachEntry(std::string_view text, Fn&& fn) {
  while (!text.empty()) {
    size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    size_t c1 = item.find(':');
    size_t c2 = item.rfind(':');
    if (c1 == std::string_view::npos || c2 == c1 || item.size() < c2 + 4) continue;
    std::string_view rwx = item.substr(c2 + 1, 3);
    EntryView e{item.substr(0, c1), item.substr(c1 + 1, c2 - c1 - 1),
                (rwx[0] == 'r' ? 4u : 0u) | (rwx[1] == 'w' ? 2u : 0u) | (rwx[2] == 'x' ? 1u : 0u)};
    fn(e);
  }
}

}  // namespace

bool AclPermits(const meta::Access& a, const AclPrincipal& who, uint32_t want) {
  const uint32_t p = a.permissions;
  if (!who.oid.empty() && who.oid == a.owner) return (((p >> 6) & 7) & want) == want;
  const bool extended = !a.acl.empty();
  const uint32_t mask = extended ? (p >> 3) & 7 : 7;
  uint32_t owning_group = (p >> 3) & 7;
  std::optional<uint32_t> named_user;
  ForEachEntry(a.acl, [&](const EntryView& e) {
    if (e.type == "user" && !e.id.empty() && e.id == who.oid) named_user = e.perms;
    if (e.type == "group" && e.id.empty()) owning_group = e.perms;
  });
  if (named_user) return ((*named_user & mask) & want) == want;
  auto member = [&](std::string_view g) {
    return std::find(who.groups.begin(), who.groups.end(), g) != who.groups.end();
  };
  bool in_group = false;
  uint32_t granted = 0;
  if (member(a.group)) {
    in_group = true;
    granted |= owning_group & mask;
  }
  if (extended && !who.groups.empty()) {
    ForEachEntry(a.acl, [&](const EntryView& e) {
      if (e.type == "group" && !e.id.empty() && member(e.id)) {
        in_group = true;
        granted |= e.perms & mask;
      }
    });
  }
  if (in_group) return (granted & want) == want;
  return ((p & 7) & want) == want;
}

bool InheritDefaultAcl(const meta::Access& parent, bool child_is_dir, meta::Access* child) {
  if (parent.default_acl.empty()) return false;
  auto defaults = ParseAcl(parent.default_acl);
  if (!defaults.ok() || defaults->empty()) return false;
  std::vector<AclEntry> entries;
  for (AclEntry e : *defaults) {
    e.is_default = false;
    entries.push_back(e);
  }
  meta::Access inherited = *child;
  inherited.permissions &= ~01000u;  // the sticky bit is not inherited
  if (!ApplyAcl(entries, child_is_dir, &inherited).ok()) return false;
  if (child_is_dir) inherited.default_acl = parent.default_acl;
  *child = inherited;
  return true;
}

StatusOr<std::vector<AclEntry>> ParseAclChange(const std::string& text, AclChangeMode mode) {
  if (mode != AclChangeMode::kRemove) {
    TARN_ASSIGN_OR_RETURN(std::vector<AclEntry> entries, ParseAcl(text));
    size_t defaults = std::count_if(entries.begin(), entries.end(),
                                    [](const AclEntry& e) { return e.is_default; });
    if (defaults > 32 || entries.size() - defaults > 32) {
      return Bad("An ACL may hold at most 32 access and 32 default entries.");
    }
    return entries;
  }
  std::vector<AclEntry> out;
  for (std::string_view piece : Split(text, ',')) {
    std::string raw(piece);
    AclEntry e;
    std::string rest = raw;
    if (rest.rfind("default:", 0) == 0) {
      e.is_default = true;
      rest = rest.substr(8);
    }
    size_t c1 = rest.find(':');
    e.type = rest.substr(0, c1);
    if (c1 != std::string::npos) {
      size_t c2 = rest.find(':', c1 + 1);
      e.id = rest.substr(c1 + 1, c2 == std::string::npos ? c2 : c2 - c1 - 1);
    }
    if (e.type != "user" && e.type != "group" && e.type != "mask" && e.type != "other") {
      return Bad("The ACL entry '" + raw + "' has an unknown scope or type.");
    }
    out.push_back(e);
  }
  if (out.size() > 64) return Bad("An ACL change may hold at most 64 entries.");
  return out;
}

Status ChangeAcl(AclChangeMode mode, const std::vector<AclEntry>& change, bool is_dir,
                 meta::Access* access) {
  auto same = [](const AclEntry& a, const AclEntry& b) {
    return a.is_default == b.is_default && a.type == b.type && a.id == b.id;
  };
  std::vector<AclEntry> wanted;
  for (const auto& e : change) {
    if (!e.is_default || is_dir) wanted.push_back(e);
  }
  if (mode == AclChangeMode::kSet) return ApplyAcl(wanted, is_dir, access);
  TARN_ASSIGN_OR_RETURN(std::vector<AclEntry> current, ParseAcl(FormatAcl(*access, is_dir)));
  for (const auto& e : wanted) {
    auto it = std::find_if(current.begin(), current.end(),
                           [&](const AclEntry& c) { return same(c, e); });
    if (mode == AclChangeMode::kModify) {
      if (it != current.end()) {
        it->perms = e.perms;
      } else {
        current.push_back(e);
      }
      continue;
    }
    if (!e.is_default && e.id.empty() && e.type != "mask") {
      return Bad("The base entries user::, group:: and other:: cannot be removed.");
    }
    if (it != current.end()) current.erase(it);
  }
  return ApplyAcl(current, is_dir, access);
}

}  // namespace tarn::lake
