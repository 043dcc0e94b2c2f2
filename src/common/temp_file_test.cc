#include "common/temp_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>

namespace tarn {
namespace {

TEST(TempFile, AppendsReadsBackAndLeavesNoName) {
  auto f = TempFile::Open("");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  ASSERT_TRUE(f->Append("hello, ").ok());
  ASSERT_TRUE(f->Append(std::string(100000, 'x')).ok());
  EXPECT_EQ(f->size(), 100007);
  std::string buf(10, '\0');
  auto got = f->ReadAt(0, buf.data(), 7);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(buf.substr(0, *got), "hello, ");
  got = f->ReadAt(100000, buf.data(), buf.size());  // past the end: only what is there
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, 7u);
  struct stat st {};
  ASSERT_EQ(::fstat(f->fd(), &st), 0);
  EXPECT_EQ(st.st_nlink, 0u);  // unlinked: gone when closed
  TempFile moved = std::move(*f);
  EXPECT_EQ(moved.size(), 100007);
  EXPECT_EQ(f->fd(), -1);
}

TEST(TempFile, ANonexistentDirectoryIsAnError) {
  EXPECT_FALSE(TempFile::Open("/nonexistent/tarn").ok());
}

}  // namespace
}  // namespace tarn
