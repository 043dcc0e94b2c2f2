#include "layout/apply.h"

#include "common/time_util.h"

namespace tarn::layout {
namespace {

bool Missing(const Status& s) { return s.code() == Code::kNotFound; }

Status Make(const Layout& layout, const Connections& c, const Change& ch) {
  using K = Change::Kind;
  switch (ch.kind) {
    case K::kCreateFilesystem: {
      Status s = c.lake->CreateFilesystem(ch.target);
      return s.code() == Code::kAlreadyExists ? Status::Ok() : s;
    }
    case K::kCreateDirectory: {
      size_t slash = ch.target.find('/');
      return c.lake->CreateDirectory(ch.target.substr(0, slash), ch.target.substr(slash + 1));
    }
    case K::kCreateGroup: {
      client::Json body = {{"display_name", ch.group}};
      return c.directory->Identity("POST", {"tenants", layout.tenant, "groups"}, {}, &body)
          .status();
    }
    case K::kAssignRole: {
      if (ch.role.principal_id.empty()) return Status::Ok();  // the group comes first
      client::Json body = {{"principal_id", ch.role.principal_id},
                           {"role", ch.role.role},
                           {"scope", ch.role.scope}};
      return c.directory->Identity("POST", {"role-assignments"}, {}, &body).status();
    }
    case K::kRemoveRole:
      return c.directory->Identity("DELETE", {"role-assignments", ch.role.id}).status();
    case K::kSetAcl: {
      if (ch.acl.empty()) return Status::Ok();
      size_t slash = ch.target.find('/');
      return c.lake->SetAccessControl(ch.target.substr(0, slash),
                                      slash == std::string::npos ? "" : ch.target.substr(slash + 1),
                                      ch.acl);
    }
    case K::kSetRetention:
      return c.lake->SetFilesystemMetadata(ch.target, ch.metadata);
    case K::kRecordLayout: {
      const std::string fs = ch.target.substr(0, ch.target.find('/'));
      client::Json zones = client::Json::array();
      for (const Zone& z : layout.zones) {
        zones.push_back({{"name", z.name}, {"filesystem", z.filesystem}, {"domains", z.domains}});
      }
      client::Json retention = client::Json::object();
      if (layout.retention.raw_batches_days) {
        retention["raw_batches_days"] = *layout.retention.raw_batches_days;
      }
      if (layout.retention.failed_staging_days) {
        retention["failed_staging_days"] = *layout.retention.failed_staging_days;
      }
      client::Json record = {{"digest", layout.digest},
                             {"applied_at", FormatIso8601(NowMicros())},
                             {"tenant", layout.tenant},
                             {"zones", zones},
                             {"groups", layout.groups},
                             {"retention", retention}};
      return c.lake->PutBlob(fs, kAppliedPath, record.dump(2) + "\n");
    }
  }
  return Status(Code::kInternal, "unknown change");
}

}  // namespace

StatusOr<Live> ReadLive(const Layout& layout, const Connections& c) {
  Live live;
  for (const Zone& z : layout.zones) {
    auto root = c.lake->GetAccessControl(z.filesystem, "");
    if (Missing(root.status())) continue;
    TARN_RETURN_IF_ERROR(root.status());
    live.filesystems.insert(z.filesystem);
    live.acls[z.filesystem] = root->acl;
    TARN_ASSIGN_OR_RETURN(live.metadata[z.filesystem], c.lake->GetFilesystemMetadata(z.filesystem));
    for (const auto& d : z.domains) {
      auto dir = c.lake->GetAccessControl(z.filesystem, d);
      if (Missing(dir.status())) continue;
      TARN_RETURN_IF_ERROR(dir.status());
      live.directories.insert(z.filesystem + "/" + d);
      live.acls[z.filesystem + "/" + d] = dir->acl;
    }
    auto applied = c.lake->GetBlob(z.filesystem, kAppliedPath);
    if (applied.ok()) {
      auto j = client::Json::parse(*applied, nullptr, false);
      if (j.is_object() && j.contains("digest") && j["digest"].is_string()) {
        live.applied[z.filesystem] = j["digest"].get<std::string>();
      }
    } else if (!Missing(applied.status())) {
      return applied.status();
    }
  }
  auto groups = c.directory->Identity("GET", {"tenants", layout.tenant, "groups"});
  if (Missing(groups.status())) {
    return Status(Code::kNotFound, "tenant '" + layout.tenant +
                                       "' does not exist in this tarnd's directory (tarn tenant "
                                       "list shows them)");
  }
  TARN_RETURN_IF_ERROR(groups.status());
  for (const auto& g : groups->value("groups", client::Json::array())) {
    live.group_ids[g.value("display_name", "")] = g.value("object_id", "");
  }
  TARN_ASSIGN_OR_RETURN(client::Json roles, c.directory->Identity("GET", {"role-assignments"}));
  for (const auto& r : roles.value("role_assignments", client::Json::array())) {
    live.roles.push_back({r.value("id", ""), r.value("principal_id", ""), r.value("role", ""),
                          r.value("scope", "")});
  }
  return live;
}

StatusOr<std::vector<Change>> Apply(const Layout& layout, const Connections& c,
                                    const std::function<void(const Change&)>& made) {
  std::vector<Change> done;
  constexpr int kPasses = 3;
  for (int pass = 0; pass < kPasses; ++pass) {
    TARN_ASSIGN_OR_RETURN(Live live, ReadLive(layout, c));
    std::vector<Change> todo = Diff(layout, c.account, live);
    bool any = false;
    for (const Change& ch : todo) {
      // Entries for a group made in this pass wait for the next one, when its id is known.
      if ((ch.kind == Change::Kind::kAssignRole && ch.role.principal_id.empty()) ||
          (ch.kind == Change::Kind::kSetAcl && ch.acl.empty())) {
        continue;
      }
      Status s = Make(layout, c, ch);
      if (!s.ok()) {
        return Status(s.code(), KindName(ch.kind) + " " + ch.target + ": " + s.message());
      }
      any = true;
      done.push_back(ch);
      if (made) made(ch);
    }
    if (!any) return done;
  }
  // Each pass makes what the previous one could not (a group's entries once it exists); a
  // lake that still differs after that answers the same change again and again.
  TARN_ASSIGN_OR_RETURN(Live live, ReadLive(layout, c));
  std::vector<Change> rest = Diff(layout, c.account, live);
  if (!rest.empty()) {
    const Change& ch = rest.front();
    return Status(Code::kInternal, "after " + std::to_string(kPasses) +
                                       " passes the lake still differs from the layout: " +
                                       KindName(ch.kind) + " " + ch.target + " " + ch.detail);
  }
  return done;
}

}  // namespace tarn::layout
