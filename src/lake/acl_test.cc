#include "lake/acl.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

namespace tarn::lake {
namespace {

bool IsInvalidHeader(const Status& s) { return s.reason() == Reason::kInvalidHeaderValue; }

uint32_t MustParsePermissions(const std::string& text) {
  auto p = ParsePermissions(text);
  EXPECT_TRUE(p.ok()) << text << ": " << p.status().ToString();
  return p.ok() ? *p : 0xFFFFFFFFu;
}

std::vector<AclEntry> MustParseAcl(const std::string& text) {
  auto a = ParseAcl(text);
  EXPECT_TRUE(a.ok()) << text << ": " << a.status().ToString();
  return a.ok() ? *a : std::vector<AclEntry>{};
}

// Parses and applies an ACL to fresh access fields; returns the resulting getAccessControl text.
std::string ApplyAndFormat(const std::string& text, bool is_dir, meta::Access* access) {
  auto entries = MustParseAcl(text);
  Status s = ApplyAcl(entries, is_dir, access);
  EXPECT_TRUE(s.ok()) << text << ": " << s.ToString();
  return FormatAcl(*access, is_dir);
}

// ----- permissions -----------------------------------------------------------------------------

TEST(ParsePermissionsTest, Symbolic) {
  EXPECT_EQ(MustParsePermissions("rwxr-x---"), 0750u);
  EXPECT_EQ(MustParsePermissions("rw-r-----"), 0640u);
  EXPECT_EQ(MustParsePermissions("---------"), 0u);
  EXPECT_EQ(MustParsePermissions("rwxrwxrwx"), 0777u);
  EXPECT_EQ(MustParsePermissions("r---w---x"), 0421u);
}

TEST(ParsePermissionsTest, StickyBit) {
  EXPECT_EQ(MustParsePermissions("rwxrwxrwt"), 01777u);  // sticky with other-execute
  EXPECT_EQ(MustParsePermissions("rwxrwxrwT"), 01776u);  // sticky without
  EXPECT_EQ(MustParsePermissions("rwxr-x--t"), 01751u);
  EXPECT_EQ(MustParsePermissions("rwxr-x--T"), 01750u);
  // t/T belongs in the last slot only.
  EXPECT_TRUE(IsInvalidHeader(ParsePermissions("rwtr-x---").status()));
  EXPECT_TRUE(IsInvalidHeader(ParsePermissions("rwxr-t---").status()));
  EXPECT_TRUE(IsInvalidHeader(ParsePermissions("rwxr-x-t-").status()));
}

TEST(ParsePermissionsTest, ExtendedAclSuffix) {
  EXPECT_EQ(MustParsePermissions("rwxr-x---+"), 0750u);
  EXPECT_EQ(MustParsePermissions("rwxrwxrwT+"), 01776u);
  EXPECT_TRUE(IsInvalidHeader(ParsePermissions("rwxr-x---++").status()));
  EXPECT_TRUE(IsInvalidHeader(ParsePermissions("+rwxr-x---").status()));
  EXPECT_TRUE(IsInvalidHeader(ParsePermissions("+").status()));
}

TEST(ParsePermissionsTest, Octal) {
  EXPECT_EQ(MustParsePermissions("0750"), 0750u);
  EXPECT_EQ(MustParsePermissions("0000"), 0u);
  EXPECT_EQ(MustParsePermissions("0777"), 0777u);
  EXPECT_EQ(MustParsePermissions("1777"), 01777u);
  EXPECT_EQ(MustParsePermissions("640"), 0640u);
  // setuid/setgid are not part of the model; digits above 7 are not octal.
  for (const char* bad : {"2777", "4755", "7777", "0800", "0759", "08", "07777", "0x75", "75a"}) {
    EXPECT_TRUE(IsInvalidHeader(ParsePermissions(bad).status())) << bad;
  }
}

TEST(ParsePermissionsTest, Invalid) {
  for (const char* bad : {"", "rwx", "rwxr-x--", "rwxr-x----", "rwzr-x---", "xwrr-x---",
                          "RWXR-X---", "rwxr-x-- ", " rwxr-x---", "rw-rw-rw-x", "r-x-r-x-r"}) {
    EXPECT_TRUE(IsInvalidHeader(ParsePermissions(bad).status())) << "'" << bad << "'";
  }
}

TEST(FormatPermissionsTest, FormatsAndRoundTrips) {
  EXPECT_EQ(FormatPermissions(0750, false), "rwxr-x---");
  EXPECT_EQ(FormatPermissions(0750, true), "rwxr-x---+");
  EXPECT_EQ(FormatPermissions(01777, false), "rwxrwxrwt");
  EXPECT_EQ(FormatPermissions(01776, false), "rwxrwxrwT");
  EXPECT_EQ(FormatPermissions(0, false), "---------");
  for (uint32_t v = 0; v <= 01777; ++v) {
    for (bool ext : {false, true}) {
      std::string s = FormatPermissions(v, ext);
      auto back = ParsePermissions(s);
      ASSERT_TRUE(back.ok()) << s;
      EXPECT_EQ(*back, v) << s;
    }
    char octal[8];
    std::snprintf(octal, sizeof octal, "%04o", v);
    auto back = ParsePermissions(octal);
    ASSERT_TRUE(back.ok()) << octal;
    EXPECT_EQ(*back, v) << octal;
  }
}

// ----- ACL text --------------------------------------------------------------------------------

TEST(ParseAclTest, ParsesEntries) {
  auto e = MustParseAcl(
      "user::rwx,user:alice:r-x,group::r--,group:devs:-w-,mask::rwx,other::---,"
      "default:user::rwx,default:mask::r-x");
  ASSERT_EQ(e.size(), 8u);
  EXPECT_FALSE(e[0].is_default);
  EXPECT_EQ(e[0].type, "user");
  EXPECT_EQ(e[0].id, "");
  EXPECT_EQ(e[0].perms, 7u);
  EXPECT_EQ(e[1].type, "user");
  EXPECT_EQ(e[1].id, "alice");
  EXPECT_EQ(e[1].perms, 5u);
  EXPECT_EQ(e[2].perms, 4u);
  EXPECT_EQ(e[3].id, "devs");
  EXPECT_EQ(e[3].perms, 2u);
  EXPECT_EQ(e[4].type, "mask");
  EXPECT_EQ(e[5].type, "other");
  EXPECT_EQ(e[5].perms, 0u);
  EXPECT_TRUE(e[6].is_default);
  EXPECT_EQ(e[6].type, "user");
  EXPECT_TRUE(e[7].is_default);
  EXPECT_EQ(e[7].type, "mask");
  EXPECT_EQ(e[7].perms, 5u);

  EXPECT_TRUE(MustParseAcl("").empty());
}

TEST(ParseAclTest, TextRoundTrips) {
  for (const char* text :
       {"user::rwx", "user::rwx,group::r-x,other::---",
        "user::rw-,user:6f2e0c4a-1b2c-4d5e-8f90-0123456789ab:r--,group::r--,mask::r--,other::---",
        "default:user::rwx,default:group:g1:--x,default:other::r--"}) {
    EXPECT_EQ(FormatAclEntries(MustParseAcl(text)), text);
  }
}

TEST(ParseAclTest, RejectsMalformedEntries) {
  for (const char* bad :
       {"user:rwx", "user", "bogus::rwx", "users::rwx", "mask:m:rwx", "other:o:rwx",
        "default:mask:m:rwx", "user::rwz", "user::rw", "user::rwxx", "user::xwr", "user::rwx,",
        ",user::rwx", "user::rwx,,group::r-x", "default:default:user::rwx", "user:a:r-x:extra",
        "USER::rwx"}) {
    EXPECT_TRUE(IsInvalidHeader(ParseAcl(bad).status())) << bad;
  }
}

// ----- applying and formatting -----------------------------------------------------------------

TEST(ApplyAclTest, MinimalAclSetsPermissionBits) {
  meta::Access a;
  a.permissions = 0;
  a.acl = "user:stale:rwx,mask::rwx";
  EXPECT_EQ(ApplyAndFormat("user::rw-,group::r--,other::--x", false, &a),
            "user::rw-,group::r--,other::--x");
  EXPECT_EQ(a.permissions, 0641u);
  EXPECT_EQ(a.acl, "");  // no extended entries remain
  EXPECT_EQ(a.default_acl, "");
  EXPECT_EQ(FormatPermissions(a.permissions, !a.acl.empty()), "rw-r----x");
}

TEST(ApplyAclTest, NamedEntriesAndMask) {
  meta::Access a;
  const std::string text =
      "user::rwx,user:alice:r-x,user:bob:rw-,group::r--,group:devs:rwx,mask::r-x,other::---";
  EXPECT_EQ(ApplyAndFormat(text, false, &a), text);
  // The group bits show the mask, the owning group's own bits live in the ACL.
  EXPECT_EQ(a.permissions, 0750u);
  EXPECT_FALSE(a.acl.empty());
  EXPECT_EQ(FormatPermissions(a.permissions, !a.acl.empty()), "rwxr-x---+");

  // Entries given in another order come back in Azure's order.
  meta::Access b;
  EXPECT_EQ(ApplyAndFormat("other::---,mask::r-x,group:devs:rwx,user:bob:rw-,group::r--,"
                           "user:alice:r-x,user::rwx",
                           false, &b),
            "user::rwx,user:bob:rw-,user:alice:r-x,group::r--,group:devs:rwx,mask::r-x,other::---");
  EXPECT_EQ(b.permissions, 0750u);

  // A mask alone still makes the ACL extended.
  meta::Access c;
  EXPECT_EQ(ApplyAndFormat("user::rwx,group::rwx,mask::r--,other::---", false, &c),
            "user::rwx,group::rwx,mask::r--,other::---");
  EXPECT_EQ(c.permissions, 0740u);
}

TEST(ApplyAclTest, DefaultEntriesOnlyOnDirectories) {
  const std::string text =
      "user::rwx,group::r-x,other::---,default:user::rwx,default:user:alice:r-x,"
      "default:group::r-x,default:mask::r-x,default:other::---";
  meta::Access dir;
  EXPECT_EQ(ApplyAndFormat(text, true, &dir), text);
  EXPECT_EQ(dir.permissions, 0750u);
  EXPECT_EQ(dir.acl, "");
  EXPECT_EQ(dir.default_acl,
            "default:user::rwx,default:user:alice:r-x,default:group::r-x,default:mask::r-x,"
            "default:other::---");

  meta::Access file;
  file.permissions = 0640;
  Status s = ApplyAcl(MustParseAcl(text), false, &file);
  EXPECT_TRUE(IsInvalidHeader(s)) << s.ToString();
  EXPECT_EQ(file.permissions, 0640u);  // untouched on failure
  EXPECT_EQ(file.default_acl, "");
  // Default entries on a file's text are never shown.
  meta::Access odd;
  odd.default_acl = "default:user::rwx";
  EXPECT_EQ(FormatAcl(odd, false), "user::rwx,group::r-x,other::---");
  EXPECT_EQ(FormatAcl(odd, true), "user::rwx,group::r-x,other::---,default:user::rwx");
}

TEST(ApplyAclTest, KeepsTheStickyBit) {
  meta::Access a;
  a.permissions = 01777;
  EXPECT_EQ(ApplyAndFormat("user::rwx,group::r-x,other::r-x", true, &a),
            "user::rwx,group::r-x,other::r-x");
  EXPECT_EQ(a.permissions, 01755u);
}

TEST(ApplyAclTest, RequiresOwnerGroupAndOther) {
  for (const char* text : {"user::rwx,group::r-x", "user::rwx,other::---", "group::r-x,other::---",
                           "user:alice:rwx,group::r-x,other::---",
                           "default:user::rwx,default:group::r-x,default:other::---"}) {
    meta::Access a;
    EXPECT_TRUE(IsInvalidHeader(ApplyAcl(MustParseAcl(text), true, &a))) << text;
  }
}

std::string NamedUsers(int n, const std::string& prefix = "") {
  std::string s;
  for (int i = 0; i < n; ++i) s += "," + prefix + "user:u" + std::to_string(i) + ":r--";
  return s;
}

TEST(ApplyAclTest, AtMost32EntriesOfEachKind) {
  // user::, group::, mask::, other:: plus 28 named users = 32 access entries.
  meta::Access ok;
  std::string max_access = "user::rwx,group::r-x,mask::rwx,other::---" + NamedUsers(28);
  EXPECT_TRUE(ApplyAcl(MustParseAcl(max_access), false, &ok).ok());
  EXPECT_EQ(FormatAcl(ok, false).size(), FormatAclEntries(MustParseAcl(max_access)).size());

  meta::Access too_many;
  std::string over = max_access + ",user:one-more:r--";
  EXPECT_EQ(MustParseAcl(over).size(), 33u);
  EXPECT_TRUE(IsInvalidHeader(ApplyAcl(MustParseAcl(over), false, &too_many)));
  EXPECT_EQ(too_many.acl, "");

  // 32 default entries are fine beside 32 access entries; 33 are not.
  meta::Access dir;
  std::string base = "user::rwx,group::r-x,other::---";
  std::string defaults = NamedUsers(32, "default:");
  EXPECT_TRUE(ApplyAcl(MustParseAcl(max_access + defaults), true, &dir).ok());
  meta::Access dir2;
  EXPECT_TRUE(
      IsInvalidHeader(ApplyAcl(MustParseAcl(base + NamedUsers(33, "default:")), true, &dir2)));
}

TEST(FormatAclTest, PlainAccess) {
  meta::Access a;  // 0750, no ACL
  EXPECT_EQ(FormatAcl(a, false), "user::rwx,group::r-x,other::---");
  EXPECT_EQ(FormatAcl(a, true), "user::rwx,group::r-x,other::---");
  a.permissions = 01644;
  EXPECT_EQ(FormatAcl(a, false), "user::rw-,group::r--,other::r--");
}

TEST(AclPermitsTest, OwnerNamedUserGroupsOtherAndMask) {
  meta::Access a;
  a.owner = "owner";
  a.group = "staff";
  ASSERT_TRUE(ApplyAcl(*ParseAcl("user::rwx,user:alice:rwx,group::r-x,group:eng:rw-,mask::r-x,"
                                 "other::--x"),
                       false, &a)
                  .ok());
  EXPECT_TRUE(AclPermits(a, {"owner", {}}, 7));
  EXPECT_TRUE(AclPermits(a, {"alice", {}}, 5));
  EXPECT_FALSE(AclPermits(a, {"alice", {}}, 2));  // the mask removes write
  EXPECT_TRUE(AclPermits(a, {"bob", {"staff"}}, 5));
  EXPECT_TRUE(AclPermits(a, {"bob", {"eng"}}, 4));
  EXPECT_FALSE(AclPermits(a, {"bob", {"eng"}}, 2));  // masked
  // In a matching group that grants nothing wanted: no fall-through to other.
  EXPECT_FALSE(AclPermits(a, {"bob", {"eng"}}, 1));
  EXPECT_TRUE(AclPermits(a, {"stranger", {}}, 1));
  EXPECT_FALSE(AclPermits(a, {"stranger", {}}, 4));
}

TEST(AclPermitsTest, InheritsDefaultAclOnlyWhenThereIsOne) {
  meta::Access parent;
  meta::Access child;
  child.permissions = 0640;
  EXPECT_FALSE(InheritDefaultAcl(parent, false, &child));
  EXPECT_EQ(child.permissions, 0640u);
  ASSERT_TRUE(ApplyAcl(*ParseAcl("user::rwx,group::r-x,other::---,default:user::rwx,"
                                 "default:user:alice:r-x,default:group::r--,default:other::---"),
                       true, &parent)
                  .ok());
  meta::Access file, dir;
  ASSERT_TRUE(InheritDefaultAcl(parent, false, &file));
  EXPECT_TRUE(AclPermits(file, {"alice", {}}, 4));
  EXPECT_TRUE(file.default_acl.empty());
  ASSERT_TRUE(InheritDefaultAcl(parent, true, &dir));
  EXPECT_EQ(dir.default_acl, parent.default_acl);
}

// What getAccessControl shows can always be set again: 29 named users with no mask fill the 32
// entries once the implied mask is shown, so they are refused (a fuzzing find), and 28 round-trip.
TEST(ApplyAclTest, TheImpliedMaskCountsTowardThe32Entries) {
  auto acl_with = [](int named) {
    std::string text = "user::rwx,group::r-x,other::---";
    for (int i = 0; i < named; ++i) text += ",user:u" + std::to_string(i) + ":r--";
    return text;
  };
  meta::Access a;
  EXPECT_TRUE(IsInvalidHeader(ApplyAcl(MustParseAcl(acl_with(29)), false, &a)));
  ASSERT_TRUE(ApplyAcl(MustParseAcl(acl_with(28)), false, &a).ok());
  const std::string shown = FormatAcl(a, false);
  meta::Access again;
  EXPECT_TRUE(ApplyAcl(MustParseAcl(shown), false, &again).ok()) << shown;
  EXPECT_EQ(FormatAcl(again, false), shown);
}

}  // namespace
}  // namespace tarn::lake
