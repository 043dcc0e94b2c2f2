// The layout DatasetMount gives a version's files (the FUSE serving itself is proven against a
// real tarnd in tests/sdk: test_cli.py and test_sdk.py mount and read).
#include "mount/dataset_mount.h"

#include <gtest/gtest.h>

namespace tarn::mount {
namespace {

using V = std::vector<std::string>;

TEST(RelativeToCommonDirTest, StripsTheSharedDirectory) {
  EXPECT_EQ(RelativeToCommonDir(V{"a/x/1.csv", "a/y/2.csv"}), (V{"x/1.csv", "y/2.csv"}));
  EXPECT_EQ(RelativeToCommonDir(V{"a/b/1.csv", "a/b/c/2.csv"}), (V{"1.csv", "c/2.csv"}));
  EXPECT_EQ(RelativeToCommonDir(V{"d/only.bin"}), (V{"only.bin"}));
}

TEST(RelativeToCommonDirTest, NothingSharedKeepsPaths) {
  EXPECT_EQ(RelativeToCommonDir(V{"a/1", "b/2", "top"}), (V{"a/1", "b/2", "top"}));
  // Segments are compared whole: "ab" is not under "a".
  EXPECT_EQ(RelativeToCommonDir(V{"a/1", "ab/2"}), (V{"a/1", "ab/2"}));
  EXPECT_TRUE(RelativeToCommonDir(V{}).empty());
}

}  // namespace
}  // namespace tarn::mount
