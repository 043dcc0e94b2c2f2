#include "layout/lake_layout.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace tarn::layout {
namespace {

constexpr char kGood[] = R"(version: 1
tenant: t-1
zones:
  raw: {filesystem: raw, domains: [pos]}
  curated:
    filesystem: curated
    domains: [sales, finance]
groups: [eng, analysts]
access:
  - {group: eng, zone: raw, write: true}
  - {group: analysts, zone: curated, domain: sales, read: true}
retention: {raw_batches_days: 365, failed_staging_days: 14}
)";

std::string Err(const std::string& text) {
  auto l = ParseLayout(text, "lake.yaml");
  EXPECT_FALSE(l.ok());
  EXPECT_EQ(l.status().code(), Code::kInvalidArgument);
  return l.status().message();
}

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

TEST(ParseLayoutTest, ReadsZonesGroupsGrantsAndRetention) {
  auto l = ParseLayout(kGood, "lake.yaml");
  ASSERT_TRUE(l.ok()) << l.status().ToString();
  ASSERT_EQ(l->zones.size(), 2u);
  EXPECT_EQ(l->zones[1].filesystem, "curated");
  EXPECT_EQ(l->zones[1].domains, (std::vector<std::string>{"sales", "finance"}));
  ASSERT_EQ(l->access.size(), 2u);
  EXPECT_TRUE(l->access[0].write);
  EXPECT_EQ(l->access[1].domain, "sales");
  EXPECT_EQ(l->retention.raw_batches_days, 365);
  EXPECT_EQ(l->digest.rfind("sha256:", 0), 0u);
}

TEST(ParseLayoutTest, RefusalsNameTheLineAndColumn) {
  EXPECT_EQ(Err("version: 1\ntenant: [\n"), Err("version: 1\ntenant: [\n"));
  EXPECT_NE(Err("version: 1\ntenant: [\n").find("lake.yaml:3:1: not valid YAML"),
            std::string::npos)
      << Err("version: 1\ntenant: [\n");
  std::string m = Err(Replace(kGood, "{group: analysts,", "{group: analyst,"));
  EXPECT_NE(m.find("lake.yaml:11:13: unknown group 'analyst'"), std::string::npos) << m;
  m = Err(Replace(kGood, "filesystem: curated", "filesystem: raw"));
  EXPECT_NE(m.find("lake.yaml:6:17: zones 'raw' and 'curated' overlap"), std::string::npos) << m;
  m = Err(Replace(kGood, "retention:", "retension:"));
  EXPECT_NE(m.find("lake.yaml:12:1: unknown key 'retension'"), std::string::npos) << m;
  m = Err(Replace(kGood, "domain: sales", "domain: hr"));
  EXPECT_NE(m.find("zone 'curated' has no domain 'hr'"), std::string::npos) << m;
  m = Err(Replace(kGood, "read: true}", "read: maybe}"));
  EXPECT_NE(m.find("read must be true or false"), std::string::npos) << m;
  m = Err(Replace(kGood, "write: true}", "write: false}"));
  EXPECT_NE(m.find("a grant gives read: true or write: true"), std::string::npos) << m;
  m = Err(Replace(kGood, "domains: [pos]", "domains: [../etc]"));
  EXPECT_NE(m.find("must be one folder name"), std::string::npos) << m;
  m = Err(Replace(kGood, "filesystem: raw", "filesystem: Raw_Zone"));
  EXPECT_NE(m.find("is not a valid name"), std::string::npos) << m;
  m = Err(Replace(kGood, "version: 1", "version: 2"));
  EXPECT_NE(m.find("'version: 1' is required"), std::string::npos) << m;
  m = Err(Replace(kGood, "raw_batches_days: 365", "raw_batches_days: -1"));
  EXPECT_NE(m.find("whole number of days"), std::string::npos) << m;
  m = Err("- just\n- a list\n");
  EXPECT_NE(m.find("the layout must be a mapping"), std::string::npos) << m;
}

TEST(AclTest, ParsesAndFormatsBack) {
  const std::string acl = "user::rwx,group::r-x,other::---,group:g1:r-x,mask::rwx,default:group:g1:r-x";
  auto a = ParseAcl(acl);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(FormatAcl(*a), acl);
  EXPECT_TRUE((*a)[5].is_default);
  EXPECT_FALSE(ParseAcl("user:rwx").ok());
}

// Carries out changes on a snapshot as tarnd would, for the idempotence check.
void ApplyTo(const std::vector<Change>& changes, const std::string& digest, Live* live) {
  int next = 0;
  for (const Change& c : changes) {
    switch (c.kind) {
      case Change::Kind::kCreateFilesystem:
        live->filesystems.insert(c.target);
        live->acls[c.target] = "user::rwx,group::r-x,other::---";
        break;
      case Change::Kind::kCreateDirectory:
        live->directories.insert(c.target);
        live->acls[c.target] = "user::rwx,group::r-x,other::---";
        break;
      case Change::Kind::kCreateGroup:
        live->group_ids[c.group] = "oid-" + c.group;
        break;
      case Change::Kind::kAssignRole:
        if (!c.role.principal_id.empty()) {
          RoleAssignment r = c.role;
          r.id = "ra-" + std::to_string(++next);
          live->roles.push_back(r);
        }
        break;
      case Change::Kind::kRemoveRole:
        live->roles.erase(std::remove_if(live->roles.begin(), live->roles.end(),
                                         [&](const RoleAssignment& r) { return r.id == c.role.id; }),
                          live->roles.end());
        break;
      case Change::Kind::kSetAcl:
        if (!c.acl.empty()) live->acls[c.target] = c.acl;
        break;
      case Change::Kind::kSetRetention:
        live->metadata[c.target] = c.metadata;
        break;
      case Change::Kind::kRecordLayout:
        live->applied[c.target.substr(0, c.target.find('/'))] = digest;
        break;
    }
  }
}

TEST(DiffTest, FromNothingToTheLayoutThenNoChanges) {
  auto l = ParseLayout(kGood, "lake.yaml");
  ASSERT_TRUE(l.ok());
  Live live;
  std::vector<Change> first = Diff(*l, "acct", live);
  ASSERT_FALSE(first.empty());
  EXPECT_EQ(first[0].kind, Change::Kind::kCreateFilesystem);
  ApplyTo(first, l->digest, &live);
  // Second pass: the groups exist now, so their roles and ACL entries follow.
  std::vector<Change> second = Diff(*l, "acct", live);
  ApplyTo(second, l->digest, &live);
  EXPECT_TRUE(Diff(*l, "acct", live).empty());
  EXPECT_EQ(live.roles.size(), 2u);
  EXPECT_NE(live.acls["curated/sales"].find("default:group:oid-analysts:r-x"), std::string::npos)
      << live.acls["curated/sales"];
  EXPECT_NE(live.acls["curated"].find("group:oid-analysts:--x"), std::string::npos);
  EXPECT_NE(live.acls["raw"].find("default:group:oid-eng:rwx"), std::string::npos);

  // Drift: a role removed and an entry edited by hand; someone else's entries are left alone.
  Live drifted = live;
  drifted.roles.erase(drifted.roles.begin());
  drifted.acls["curated/sales"] += ",group:oid-eng:rwx,user:someone:r-x";
  std::vector<Change> drift = Drift(Diff(*l, "acct", drifted));
  ASSERT_EQ(drift.size(), 2u);
  EXPECT_EQ(drift[0].kind, Change::Kind::kAssignRole);
  EXPECT_EQ(drift[1].kind, Change::Kind::kSetAcl);
  EXPECT_NE(drift[1].detail.find("-group:eng:rwx"), std::string::npos) << drift[1].detail;
  EXPECT_NE(drift[1].acl.find("user:someone:r-x"), std::string::npos);
  // The zone and its retention are metadata of its filesystem, beside anyone else's entries.
  EXPECT_EQ(live.metadata["raw"], (std::map<std::string, std::string>{
                                      {"tarn_failed_staging_days", "14"},
                                      {"tarn_raw_batches_days", "365"},
                                      {"tarn_zone", "raw"}}));
  drifted = live;
  drifted.metadata["curated"]["tarn_raw_batches_days"] = "1";
  drifted.metadata["curated"]["owner_team"] = "sales";
  drift = Drift(Diff(*l, "acct", drifted));
  ASSERT_EQ(drift.size(), 1u);
  EXPECT_EQ(drift[0].kind, Change::Kind::kSetRetention);
  EXPECT_EQ(drift[0].metadata.count("tarn_raw_batches_days"), 1u);  // the layout's own value
  EXPECT_EQ(drift[0].metadata.at("tarn_raw_batches_days"), "365");
  EXPECT_EQ(drift[0].metadata.at("owner_team"), "sales");
  // A role for one of the layout's groups that the layout does not list is removed.
  drifted = live;
  drifted.roles.push_back({"ra-x", "oid-analysts", kContributorRole, "/acct/raw"});
  drifted.roles.push_back({"ra-y", "oid-outsider", kContributorRole, "/acct/raw"});
  drift = Drift(Diff(*l, "acct", drifted));
  ASSERT_EQ(drift.size(), 1u);
  EXPECT_EQ(drift[0].kind, Change::Kind::kRemoveRole);
  EXPECT_EQ(drift[0].role.id, "ra-x");
}

}  // namespace
}  // namespace tarn::layout
