#include "common/secret_box.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

namespace tarn {
namespace {

class SecretBoxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "tarn_secret_test.XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(SecretBoxTest, SealsAndOpensAcrossRestarts) {
  std::string sealed;
  {
    auto box = SecretBox::OpenOrCreate(dir_ + "/catalog.key");
    ASSERT_TRUE(box.ok()) << box.status().ToString();
    sealed = (*box)->Seal("account-key-bytes");
    EXPECT_EQ(sealed.find("account-key-bytes"), std::string::npos);
    EXPECT_NE((*box)->Seal("account-key-bytes"), sealed);  // a fresh nonce each time
  }
  struct stat st {};
  ASSERT_EQ(::stat((dir_ + "/catalog.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto again = SecretBox::OpenOrCreate(dir_ + "/catalog.key");
  ASSERT_TRUE(again.ok());
  auto plain = (*again)->Open(sealed);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(*plain, "account-key-bytes");
}

TEST_F(SecretBoxTest, RefusesTamperingAndForeignKeys) {
  auto a = SecretBox::OpenOrCreate(dir_ + "/a.key");
  auto b = SecretBox::OpenOrCreate(dir_ + "/b.key");
  ASSERT_TRUE(a.ok() && b.ok());
  std::string sealed = (*a)->Seal("s3cret");
  EXPECT_FALSE((*b)->Open(sealed).ok());
  sealed.back() ^= 1;
  EXPECT_FALSE((*a)->Open(sealed).ok());
  EXPECT_FALSE((*a)->Open("short").ok());
}

TEST_F(SecretBoxTest, RefusesAKeyOthersCanRead) {
  ASSERT_TRUE(SecretBox::OpenOrCreate(dir_ + "/k.key").ok());
  ::chmod((dir_ + "/k.key").c_str(), 0644);
  auto box = SecretBox::OpenOrCreate(dir_ + "/k.key");
  ASSERT_FALSE(box.ok());
  EXPECT_NE(box.status().message().find("chmod 600"), std::string::npos);
  std::ofstream(dir_ + "/short.key") << "abc";
  ::chmod((dir_ + "/short.key").c_str(), 0600);
  EXPECT_FALSE(SecretBox::OpenOrCreate(dir_ + "/short.key").ok());
}

}  // namespace
}  // namespace tarn
