#include "common/status.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace tarn {
namespace {

TEST(ErrorTableTest, EveryReasonDescribesItself) {
  for (int i = 0; i <= static_cast<int>(Reason::kObjectAlreadyExists); ++i) {
    auto r = static_cast<Reason>(i);
    const ReasonInfo& info = Describe(r);
    EXPECT_EQ(info.reason, r) << i;
    EXPECT_NE(info.blob_code, nullptr) << i;
    EXPECT_NE(info.dfs_code, nullptr) << i;
    EXPECT_GE(info.http_status, 300) << i;
    EXPECT_LT(info.http_status, 600) << i;
  }
}

TEST(ErrorTableTest, KnownRows) {
  const ReasonInfo& not_found = Describe(Reason::kPathNotFound);
  EXPECT_EQ(not_found.http_status, 404);
  EXPECT_EQ(not_found.code, Code::kNotFound);
  EXPECT_STREQ(not_found.blob_code, "BlobNotFound");
  EXPECT_STREQ(not_found.dfs_code, "PathNotFound");

  const ReasonInfo& exists = Describe(Reason::kFilesystemAlreadyExists);
  EXPECT_EQ(exists.http_status, 409);
  EXPECT_STREQ(exists.blob_code, "ContainerAlreadyExists");
  EXPECT_STREQ(exists.dfs_code, "FilesystemAlreadyExists");

  EXPECT_EQ(Describe(Reason::kConditionNotMet).http_status, 412);
  EXPECT_EQ(Describe(Reason::kInvalidRange).http_status, 416);
  EXPECT_EQ(Describe(Reason::kNotModified).http_status, 304);
  EXPECT_EQ(Describe(Reason::kServerBusy).http_status, 503);
  EXPECT_EQ(Describe(Reason::kMissingContentLength).http_status, 411);
}

TEST(ErrorTableTest, OutOfRangeReasonFallsBackToInternal) {
  const ReasonInfo& info = Describe(static_cast<Reason>(100000));
  EXPECT_EQ(info.http_status, 500);
  EXPECT_STREQ(info.blob_code, "InternalError");
}

TEST(StatusTest, DefaultIsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), Code::kOk);
  EXPECT_EQ(s.reason(), Reason::kNone);
  EXPECT_EQ(s.ToString(), "OK");
  EXPECT_TRUE(Status::Ok().ok());
}

TEST(StatusTest, CodeAndMessage) {
  Status s(Code::kNotFound, "no such extent");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Code::kNotFound);
  EXPECT_EQ(s.reason(), Reason::kNone);
  EXPECT_EQ(s.message(), "no such extent");
  EXPECT_EQ(s.ToString(), "NotFound: no such extent");
}

TEST(StatusTest, ReasonDerivesCode) {
  Status s = Error(Reason::kLeaseIdMismatch, "wrong lease");
  EXPECT_EQ(s.code(), Code::kFailedPrecondition);
  EXPECT_EQ(s.reason(), Reason::kLeaseIdMismatch);
  EXPECT_EQ(s.ToString(), "FailedPrecondition/LeaseIdMismatch: wrong lease");

  Status internal = InternalError("disk on fire");
  EXPECT_EQ(internal.code(), Code::kInternal);
  EXPECT_EQ(internal.reason(), Reason::kInternalError);
  EXPECT_EQ(internal.message(), "disk on fire");
}

TEST(StatusTest, EqualityIgnoresMessage) {
  EXPECT_EQ(Error(Reason::kPathNotFound, "a"), Error(Reason::kPathNotFound, "b"));
  EXPECT_FALSE(Error(Reason::kPathNotFound, "a") == Error(Reason::kFilesystemNotFound, "a"));
  EXPECT_FALSE(Status(Code::kNotFound, "a") == Error(Reason::kPathNotFound, "a"));
  EXPECT_EQ(Status(), Status::Ok());
}

TEST(StatusOrTest, HoldsValue) {
  StatusOr<int> v = 42;
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v.status().ok());
  EXPECT_EQ(*v, 42);
  EXPECT_EQ(v.value(), 42);
  *v = 7;
  EXPECT_EQ(*v, 7);
}

TEST(StatusOrTest, HoldsError) {
  StatusOr<std::string> v = Error(Reason::kPathNotFound, "gone");
  EXPECT_FALSE(v.ok());
  EXPECT_EQ(v.status().reason(), Reason::kPathNotFound);
  EXPECT_EQ(v.status().message(), "gone");
}

TEST(StatusOrTest, MoveOnlyValueAndArrow) {
  StatusOr<std::unique_ptr<std::string>> v = std::make_unique<std::string>("abc");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ((*v)->size(), 3u);
  std::unique_ptr<std::string> taken = std::move(v).value();
  ASSERT_NE(taken, nullptr);
  EXPECT_EQ(*taken, "abc");

  StatusOr<std::string> s = std::string("hello");
  EXPECT_EQ(s->size(), 5u);
}

Status FailIf(bool fail, int* calls) {
  ++*calls;
  if (fail) return Error(Reason::kConditionNotMet, "failed");
  return Status::Ok();
}

Status Chain(bool fail_first, int* calls) {
  TARN_RETURN_IF_ERROR(FailIf(fail_first, calls));
  TARN_RETURN_IF_ERROR(FailIf(false, calls));
  return Status::Ok();
}

TEST(MacroTest, ReturnIfErrorShortCircuits) {
  int calls = 0;
  EXPECT_TRUE(Chain(false, &calls).ok());
  EXPECT_EQ(calls, 2);
  calls = 0;
  Status s = Chain(true, &calls);
  EXPECT_EQ(s.reason(), Reason::kConditionNotMet);
  EXPECT_EQ(calls, 1);
}

StatusOr<int> Half(int x) {
  if (x % 2 != 0) return Error(Reason::kInvalidInput, "odd");
  return x / 2;
}

StatusOr<int> Quarter(int x) {
  TARN_ASSIGN_OR_RETURN(int half, Half(x));
  TARN_ASSIGN_OR_RETURN(int quarter, Half(half));
  return quarter;
}

StatusOr<std::unique_ptr<int>> Boxed(int x) {
  TARN_ASSIGN_OR_RETURN(auto q, Quarter(x));
  return std::make_unique<int>(q);
}

TEST(MacroTest, AssignOrReturn) {
  auto q = Quarter(12);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(*q, 3);

  auto bad = Quarter(6);  // 6 -> 3 -> odd
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().reason(), Reason::kInvalidInput);
  EXPECT_EQ(bad.status().message(), "odd");

  auto boxed = Boxed(8);
  ASSERT_TRUE(boxed.ok());
  EXPECT_EQ(**boxed, 2);
  EXPECT_FALSE(Boxed(2).ok());
}

TEST(MacroTest, AssignOrReturnIntoExistingVariable) {
  auto f = [](int x) -> Status {
    int out = -1;
    TARN_ASSIGN_OR_RETURN(out, Half(x));
    return out == 5 ? Status::Ok() : Status(Code::kInternal, "unexpected");
  };
  EXPECT_TRUE(f(10).ok());
  EXPECT_EQ(f(11).reason(), Reason::kInvalidInput);
}

}  // namespace
}  // namespace tarn
