#include "layout/lake_layout.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>

#include "common/crypto.h"
#include "common/encoding.h"
#include "common/strings.h"
#include "yaml/yaml_reader.h"
#include "zones/zone_metadata.h"

namespace tarn::layout {
namespace {

std::string Join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : sep) + p;
  return out;
}

// lake.yaml's reader: the shared checks (yaml/yaml_reader.h) and lake names and day counts.
class Reader : public yaml::Reader {
 public:
  using yaml::Reader::Reader;

  // A lake name: one path segment, no control characters.
  StatusOr<std::string> Name(const YAML::Node& n, const std::string& what) const {
    TARN_ASSIGN_OR_RETURN(std::string s, Text(n, what));
    if (s == "." || s == ".." || s.find('/') != std::string::npos || s[0] == '.' ||
        !IsValidUtf8(s) || HasControlChar(s) || s.size() > 255) {
      return At(n.Mark(), what + " '" + s +
                              "' must be one folder name (no '/', not starting with '.')");
    }
    return s;
  }

  StatusOr<int64_t> Days(const YAML::Node& n, const std::string& what) const {
    int64_t v = 0;
    if (!n.IsScalar() || !YAML::convert<int64_t>::decode(n, v) || v < 1 || v > 36500) {
      return At(n.Mark(), what + " must be a whole number of days from 1 to 36500");
    }
    return v;
  }
};

// A filesystem (container) name as Azure allows it: 3-63 of [a-z0-9-], starting and ending
// with a letter or digit, no "--".
bool ValidFilesystem(const std::string& s) {
  if (s.size() < 3 || s.size() > 63 || s.front() == '-' || s.back() == '-') return false;
  if (s.find("--") != std::string::npos) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

StatusOr<Layout> Parse(const YAML::Node& root, const Reader& r) {
  Layout l;
  TARN_RETURN_IF_ERROR(r.Mapping(root, "the layout",
                                 {"version", "tenant", "account", "zones", "groups", "access",
                                  "retention"}));
  if (!root["version"] || root["version"].Scalar() != "1") {
    return r.At(root["version"] ? root["version"].Mark() : root.Mark(),
                "'version: 1' is required (the only version there is)");
  }
  if (!root["tenant"]) return r.At(root.Mark(), "'tenant' (the directory tenant's id) is required");
  TARN_ASSIGN_OR_RETURN(l.tenant, r.Text(root["tenant"], "tenant"));
  if (root["account"]) {
    TARN_ASSIGN_OR_RETURN(l.account, r.Text(root["account"], "account"));
  }

  const YAML::Node zones = root["zones"];
  if (!zones || !zones.IsMap() || zones.size() == 0) {
    return r.At(zones ? zones.Mark() : root.Mark(),
                "'zones' must map zone names (raw, curated, product) to their filesystems");
  }
  std::map<std::string, std::string> fs_owner;  // filesystem -> zone
  for (const auto& kv : zones) {
    Zone z;
    TARN_ASSIGN_OR_RETURN(z.name, r.Name(kv.first, "a zone name"));
    const YAML::Node& body = kv.second;
    TARN_RETURN_IF_ERROR(r.Mapping(body, "zone '" + z.name + "'", {"filesystem", "domains"}));
    if (!body["filesystem"]) return r.At(body.Mark(), "zone '" + z.name + "' needs a filesystem");
    TARN_ASSIGN_OR_RETURN(z.filesystem, r.Text(body["filesystem"], "filesystem"));
    if (!ValidFilesystem(z.filesystem)) {
      return r.At(body["filesystem"].Mark(),
                  "filesystem '" + z.filesystem +
                      "' is not a valid name: 3 to 63 lowercase letters, digits and single '-'");
    }
    if (auto [it, fresh] = fs_owner.emplace(z.filesystem, z.name); !fresh) {
      return r.At(body["filesystem"].Mark(), "zones '" + it->second + "' and '" + z.name +
                                                 "' overlap: both are filesystem '" +
                                                 z.filesystem + "'");
    }
    if (const YAML::Node d = body["domains"]; d) {
      if (!d.IsSequence()) return r.At(d.Mark(), "domains must be a list of folder names");
      std::set<std::string> seen;
      for (const auto& item : d) {
        TARN_ASSIGN_OR_RETURN(std::string name, r.Name(item, "a domain"));
        if (!seen.insert(name).second) {
          return r.At(item.Mark(), "domain '" + name + "' is listed twice in zone '" + z.name + "'");
        }
        z.domains.push_back(name);
      }
    }
    l.zones.push_back(std::move(z));
  }

  if (const YAML::Node g = root["groups"]; g) {
    if (!g.IsSequence()) return r.At(g.Mark(), "groups must be a list of group names");
    for (const auto& item : g) {
      TARN_ASSIGN_OR_RETURN(std::string name, r.Text(item, "a group name"));
      if (HasControlChar(name) || !IsValidUtf8(name) || name.size() > 256) {
        return r.At(item.Mark(), "group name must be 1 to 256 characters of text");
      }
      if (std::find(l.groups.begin(), l.groups.end(), name) != l.groups.end()) {
        return r.At(item.Mark(), "group '" + name + "' is listed twice");
      }
      l.groups.push_back(name);
    }
  }

  if (const YAML::Node a = root["access"]; a) {
    if (!a.IsSequence()) return r.At(a.Mark(), "access must be a list of grants");
    for (const auto& item : a) {
      TARN_RETURN_IF_ERROR(
          r.Mapping(item, "a grant", {"group", "zone", "domain", "read", "write"}));
      Grant gr;
      if (!item["group"] || !item["zone"]) {
        return r.At(item.Mark(), "a grant names a group and a zone");
      }
      TARN_ASSIGN_OR_RETURN(gr.group, r.Text(item["group"], "group"));
      if (std::find(l.groups.begin(), l.groups.end(), gr.group) == l.groups.end()) {
        return r.At(item["group"].Mark(), "unknown group '" + gr.group +
                                              "': list it under 'groups' (" +
                                              Join(l.groups, ", ") + ")");
      }
      TARN_ASSIGN_OR_RETURN(gr.zone, r.Text(item["zone"], "zone"));
      auto zone = std::find_if(l.zones.begin(), l.zones.end(),
                               [&](const Zone& z) { return z.name == gr.zone; });
      if (zone == l.zones.end()) {
        return r.At(item["zone"].Mark(), "unknown zone '" + gr.zone + "'");
      }
      if (item["domain"]) {
        TARN_ASSIGN_OR_RETURN(gr.domain, r.Text(item["domain"], "domain"));
        if (std::find(zone->domains.begin(), zone->domains.end(), gr.domain) ==
            zone->domains.end()) {
          return r.At(item["domain"].Mark(), "zone '" + gr.zone + "' has no domain '" +
                                                 gr.domain + "'");
        }
      }
      bool read = false;
      if (item["read"]) {
        TARN_ASSIGN_OR_RETURN(read, r.Bool(item["read"], "read"));
      }
      if (item["write"]) {
        TARN_ASSIGN_OR_RETURN(gr.write, r.Bool(item["write"], "write"));
      }
      if (!read && !gr.write) return r.At(item.Mark(), "a grant gives read: true or write: true");
      for (const Grant& other : l.access) {
        if (other.group == gr.group && other.zone == gr.zone && other.domain == gr.domain) {
          return r.At(item.Mark(), "group '" + gr.group + "' has two grants on the same place");
        }
      }
      l.access.push_back(std::move(gr));
    }
  }

  if (const YAML::Node ret = root["retention"]; ret) {
    TARN_RETURN_IF_ERROR(
        r.Mapping(ret, "retention", {"raw_batches_days", "failed_staging_days"}));
    if (ret["raw_batches_days"]) {
      TARN_ASSIGN_OR_RETURN(l.retention.raw_batches_days,
                            r.Days(ret["raw_batches_days"], "raw_batches_days"));
    }
    if (ret["failed_staging_days"]) {
      TARN_ASSIGN_OR_RETURN(l.retention.failed_staging_days,
                            r.Days(ret["failed_staging_days"], "failed_staging_days"));
    }
  }
  return l;
}

std::string ScopeOf(const std::string& account, const std::string& fs, const std::string& dir) {
  return "/" + account + "/" + fs + (dir.empty() ? "" : "/" + dir);
}

const char* Perms(bool write) { return write ? "rwx" : "r-x"; }

}  // namespace

StatusOr<Layout> ParseLayout(std::string_view text, const std::string& file) {
  Reader r(file);
  TARN_ASSIGN_OR_RETURN(YAML::Node root, yaml::Load(text, r));
  try {
    TARN_ASSIGN_OR_RETURN(Layout l, Parse(root, r));
    l.digest = "sha256:" + HexEncode(Sha256(text));
    return l;
  } catch (const YAML::Exception& e) {  // a conversion yaml-cpp refused
    return r.At(e.mark, e.msg);
  }
}

StatusOr<std::vector<AclEntry>> ParseAcl(std::string_view acl) {
  std::vector<AclEntry> out;
  if (acl.empty()) return out;
  for (std::string_view item : Split(acl, ',')) {
    AclEntry e;
    if (item.substr(0, 8) == "default:") {
      e.is_default = true;
      item.remove_prefix(8);
    }
    auto parts = Split(item, ':');
    if (parts.size() != 3) {
      return Status(Code::kInvalidArgument, "unreadable ACL entry '" + std::string(item) + "'");
    }
    e.type = std::string(parts[0]);
    e.qualifier = std::string(parts[1]);
    e.perms = std::string(parts[2]);
    out.push_back(std::move(e));
  }
  return out;
}

std::string FormatAcl(const std::vector<AclEntry>& acl) {
  std::string out;
  for (const AclEntry& e : acl) {
    if (!out.empty()) out += ',';
    out += (e.is_default ? "default:" : "") + e.type + ":" + e.qualifier + ":" + e.perms;
  }
  return out;
}

std::string KindName(Change::Kind k) {
  switch (k) {
    case Change::Kind::kCreateFilesystem:
      return "create filesystem";
    case Change::Kind::kCreateDirectory:
      return "create folder";
    case Change::Kind::kCreateGroup:
      return "create group";
    case Change::Kind::kAssignRole:
      return "assign role";
    case Change::Kind::kRemoveRole:
      return "remove role";
    case Change::Kind::kSetAcl:
      return "set ACL";
    case Change::Kind::kSetRetention:
      return "set retention";
    case Change::Kind::kRecordLayout:
      return "record layout";
  }
  return "?";
}

std::vector<Change> Diff(const Layout& layout, const std::string& account, const Live& live) {
  using K = Change::Kind;
  std::vector<Change> out;
  for (const Zone& z : layout.zones) {
    if (!live.filesystems.count(z.filesystem)) {
      out.push_back({K::kCreateFilesystem, z.filesystem, "zone " + z.name, "", {}, ""});
    }
    for (const auto& d : z.domains) {
      if (!live.directories.count(z.filesystem + "/" + d)) {
        out.push_back({K::kCreateDirectory, z.filesystem + "/" + d, "domain of zone " + z.name,
                       "", {}, ""});
      }
    }
  }
  for (const auto& g : layout.groups) {
    if (!live.group_ids.count(g)) out.push_back({K::kCreateGroup, g, "", g, {}, ""});
  }
  auto id_of = [&](const std::string& g) -> std::string {
    auto it = live.group_ids.find(g);
    return it == live.group_ids.end() ? "" : it->second;
  };

  // Roles: wanted (scope, group, role) against the governed ones live.
  struct Want {
    std::string scope, group, role;
  };
  std::vector<Want> wants;
  // ACLs: per governed path, the named group entries wanted (group name -> perms).
  std::map<std::string, std::map<std::string, std::string>> acl_wants;      // access+default
  std::map<std::string, std::map<std::string, std::string>> traverse_wants;  // access --x only
  std::set<std::string> governed_paths;
  for (const Zone& z : layout.zones) {
    governed_paths.insert(z.filesystem);
    for (const auto& d : z.domains) governed_paths.insert(z.filesystem + "/" + d);
  }
  for (const Grant& g : layout.access) {
    const Zone& z = *std::find_if(layout.zones.begin(), layout.zones.end(),
                                  [&](const Zone& x) { return x.name == g.zone; });
    wants.push_back({ScopeOf(account, z.filesystem, g.domain), g.group,
                     g.write ? kContributorRole : kReaderRole});
    const std::string path = z.filesystem + (g.domain.empty() ? "" : "/" + g.domain);
    acl_wants[path][g.group] = Perms(g.write);
    if (!g.domain.empty()) traverse_wants[z.filesystem][g.group] = "--x";
  }
  std::set<std::string> governed_scopes;
  for (const auto& p : governed_paths) governed_scopes.insert("/" + account + "/" + p);
  std::set<std::string> layout_group_ids;
  for (const auto& g : layout.groups) {
    if (auto id = id_of(g); !id.empty()) layout_group_ids.insert(id);
  }
  for (const Want& w : wants) {
    const std::string id = id_of(w.group);
    bool have = !id.empty() && std::any_of(live.roles.begin(), live.roles.end(), [&](const auto& r) {
      return r.principal_id == id && r.scope == w.scope && r.role == w.role;
    });
    if (!have) {
      Change c{K::kAssignRole, w.scope, w.role + " for " + w.group, w.group, {}, ""};
      c.role = {"", id, w.role, w.scope};
      out.push_back(std::move(c));
    }
  }
  for (const RoleAssignment& r : live.roles) {
    if (!governed_scopes.count(r.scope) || !layout_group_ids.count(r.principal_id)) continue;
    bool wanted = std::any_of(wants.begin(), wants.end(), [&](const Want& w) {
      return w.scope == r.scope && w.role == r.role && id_of(w.group) == r.principal_id;
    });
    if (!wanted) {
      std::string name = r.principal_id;
      for (const auto& [n, id] : live.group_ids) {
        if (id == r.principal_id) name = n;
      }
      Change c{K::kRemoveRole, r.scope, r.role + " for " + name + " (not in the layout)", "",
               r, ""};
      out.push_back(std::move(c));
    }
  }

  // ACLs of the governed paths: keep every entry except named group entries of the layout's
  // groups, then add the wanted ones.
  for (const auto& path : governed_paths) {
    auto live_acl = live.acls.find(path);
    if (live_acl == live.acls.end()) {
      // Created by this apply: its entries are set once it exists (acl "" = not yet).
      if (acl_wants.count(path) || traverse_wants.count(path)) {
        out.push_back({K::kSetAcl, path, "entries for the layout's groups, once it exists", "",
                       {}, ""});
      }
      continue;
    }
    auto parsed = ParseAcl(live_acl->second);
    std::vector<AclEntry> entries = parsed.ok() ? *parsed : std::vector<AclEntry>{};
    std::vector<AclEntry> kept;
    for (const AclEntry& e : entries) {
      if (e.type == "group" && !e.qualifier.empty() && layout_group_ids.count(e.qualifier)) continue;
      kept.push_back(e);
    }
    bool pending = false;  // a wanted group does not exist yet
    auto add = [&](const std::map<std::string, std::string>& want, bool with_default) {
      for (const auto& [group, perms] : want) {
        std::string id = id_of(group);
        if (id.empty()) {
          pending = true;
          continue;
        }
        kept.push_back({false, "group", id, perms});
        if (with_default) kept.push_back({true, "group", id, perms});
      }
    };
    if (auto it = acl_wants.find(path); it != acl_wants.end()) add(it->second, true);
    if (auto it = traverse_wants.find(path); it != traverse_wants.end()) {
      // A domain grant's traversal; a grant on the whole zone already includes it.
      std::map<std::string, std::string> only;
      for (const auto& [group, perms] : it->second) {
        if (!acl_wants.count(path) || !acl_wants[path].count(group)) only[group] = perms;
      }
      add(only, false);
    }
    // Named entries need a mask, and default named entries the default base entries.
    bool named = false, named_default = false;
    for (const AclEntry& e : kept) {
      if (!e.qualifier.empty() && (e.type == "user" || e.type == "group")) {
        (e.is_default ? named_default : named) = true;
      }
    }
    auto has = [&](bool def, const std::string& type) {
      return std::any_of(kept.begin(), kept.end(), [&](const AclEntry& e) {
        return e.is_default == def && e.type == type && e.qualifier.empty();
      });
    };
    if (named && !has(false, "mask")) kept.push_back({false, "mask", "", "rwx"});
    if (named_default) {
      if (!has(true, "user")) kept.push_back({true, "user", "", "rwx"});
      if (!has(true, "group")) kept.push_back({true, "group", "", "r-x"});
      if (!has(true, "other")) kept.push_back({true, "other", "", "---"});
      if (!has(true, "mask")) kept.push_back({true, "mask", "", "rwx"});
    }
    std::vector<AclEntry> a = entries, b = kept;
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
    if (a != b) {
      Change c{K::kSetAcl, path, "", "", {}, FormatAcl(b)};
      // For people: the named group entries the layout adds and removes.
      std::vector<std::string> plus, minus;
      auto name_of = [&](const std::string& id) {
        for (const auto& [n, gid] : live.group_ids) {
          if (gid == id) return n;
        }
        return id;
      };
      auto show = [&](const AclEntry& e) {
        return std::string(e.is_default ? "default:" : "") + e.type + ":" +
               (e.type == "group" || e.type == "user" ? name_of(e.qualifier) : e.qualifier) +
               ":" + e.perms;
      };
      for (const auto& e : b) {
        if (!std::binary_search(a.begin(), a.end(), e)) plus.push_back("+" + show(e));
      }
      for (const auto& e : a) {
        if (!std::binary_search(b.begin(), b.end(), e)) minus.push_back("-" + show(e));
      }
      plus.insert(plus.end(), minus.begin(), minus.end());
      c.detail = Join(plus, " ");
      out.push_back(std::move(c));
    } else if (pending) {
      out.push_back({K::kSetAcl, path, "entries for groups created by this apply", "", {}, ""});
    }
  }

  for (const Zone& z : layout.zones) {
    // The zone's name and retention, as metadata of its filesystem: every other entry is kept.
    auto meta = live.metadata.find(z.filesystem);
    std::map<std::string, std::string> now =
        meta == live.metadata.end() ? std::map<std::string, std::string>{} : meta->second;
    std::map<std::string, std::string> want;
    for (const auto& [k, v] : now) {
      if (k.rfind(zones::kKeyPrefix, 0) != 0) want[k] = v;
    }
    want[zones::kZoneKey] = z.name;
    if (layout.retention.raw_batches_days) {
      want[zones::kRawBatchesDaysKey] = std::to_string(*layout.retention.raw_batches_days);
    }
    if (layout.retention.failed_staging_days) {
      want[zones::kFailedStagingDaysKey] = std::to_string(*layout.retention.failed_staging_days);
    }
    if (want != now) {
      std::vector<std::string> shown;
      for (const auto& [k, v] : want) {
        if (k.rfind(zones::kKeyPrefix, 0) == 0) shown.push_back(k + "=" + v);
      }
      Change c{K::kSetRetention, z.filesystem, Join(shown, " "), "", {}, ""};
      c.metadata = std::move(want);
      out.push_back(std::move(c));
    }
  }
  for (const Zone& z : layout.zones) {
    auto it = live.applied.find(z.filesystem);
    if (it == live.applied.end() || it->second != layout.digest) {
      out.push_back({K::kRecordLayout, z.filesystem + "/" + kAppliedPath, layout.digest, "", {},
                     ""});
    }
  }
  return out;
}

std::vector<Change> Drift(const std::vector<Change>& diff) {
  std::vector<Change> out;
  for (const Change& c : diff) {
    if (c.kind == Change::Kind::kAssignRole || c.kind == Change::Kind::kRemoveRole ||
        c.kind == Change::Kind::kSetAcl || c.kind == Change::Kind::kSetRetention) {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace tarn::layout
