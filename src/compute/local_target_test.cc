#include "compute/local_target.h"

#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace tarn::compute {
namespace {

namespace fs = std::filesystem;

// Real processes: as root the runs execute as `nobody`, as tarnd would with its configured user.
class LocalTargetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/tarn-local-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    ::chmod(root_.c_str(), 0755);
    LocalTargetOptions o;
    if (::geteuid() == 0) o.user = "nobody";
    o.work_root = root_ + "/runs";
    o.stop_grace_s = 2;
    auto t = LocalTarget::Create(o);
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    target_ = std::move(t).value();
    ASSERT_TRUE(target_->Available().ok()) << target_->Available().ToString();
  }
  void TearDown() override { fs::remove_all(root_); }

  // A run whose launch script is `body`.
  Launch Prepare(const std::string& id, const std::string& body, int64_t timeout_s = 0) {
    const std::string dir = root_ + "/runs/" + id;
    fs::create_directories(dir + "/src");
    fs::create_directories(dir + "/logs");
    std::ofstream(dir + "/launch.sh") << body;
    if (target_->RunUid() >= 0) {
      for (const auto& e : fs::recursive_directory_iterator(dir)) {
        EXPECT_EQ(::lchown(e.path().c_str(), target_->RunUid(), target_->RunGid()), 0);
      }
      EXPECT_EQ(::lchown(dir.c_str(), target_->RunUid(), target_->RunGid()), 0);
    }
    return Launch{id, dir, dir + "/src", dir + "/launch.sh", {"GREETING=hello there"}, timeout_s};
  }

  Observed WaitEnd(const std::string& handle, const std::string& dir) {
    for (int i = 0; i < 600; ++i) {
      Observed o = target_->Poll(handle, dir);
      if (o.state != Observed::State::kRunning) return o;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "the run did not end within 30 s";
    return Observed{};
  }

  std::string Log(const std::string& dir) {
    std::ifstream in(dir + "/" + kLogFile);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  std::string root_;
  std::unique_ptr<LocalTarget> target_;
};

TEST_F(LocalTargetTest, RunsAsItsUserWithItsEnvironmentAndExitCode) {
  Launch l = Prepare("a", "echo \"$GREETING\"; id -u; pwd; exit 3\n");
  auto handle = target_->Start(l);
  ASSERT_TRUE(handle.ok()) << handle.status().ToString();
  Observed o = WaitEnd(*handle, l.work_dir);
  EXPECT_EQ(o.state, Observed::State::kEnded);
  EXPECT_EQ(o.reason, "done");
  EXPECT_EQ(o.exit_code, 3);
  EXPECT_FALSE(o.signaled);
  const std::string log = Log(l.work_dir);
  EXPECT_NE(log.find("hello there\n"), std::string::npos) << log;
  EXPECT_NE(log.find(l.src_dir + "\n"), std::string::npos) << log;
  const std::string uid = std::to_string(target_->RunUid() >= 0 ? target_->RunUid()
                                                                 : static_cast<int>(::geteuid()));
  EXPECT_NE(log.find("\n" + uid + "\n"), std::string::npos) << log;
  if (::geteuid() == 0) {
    EXPECT_EQ(log.find("\n0\n"), std::string::npos) << log;
  }
}

TEST_F(LocalTargetTest, CancelStopsTheRunAndWhatItStarted) {
  Launch l = Prepare("b", "sleep 60 & echo started; wait\n");
  auto handle = target_->Start(l);
  ASSERT_TRUE(handle.ok());
  for (int i = 0; i < 200 && Log(l.work_dir).find("started") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  ASSERT_TRUE(target_->Cancel(*handle).ok());
  Observed o = WaitEnd(*handle, l.work_dir);
  EXPECT_EQ(o.state, Observed::State::kEnded);
  EXPECT_EQ(o.reason, "cancelled");
  EXPECT_NE(o.exit_code, 0);
  EXPECT_NE(Log(l.work_dir).find("[tarn] the run was cancelled"), std::string::npos);
}

TEST_F(LocalTargetTest, TheTimeLimitStopsTheRun) {
  Launch l = Prepare("c", "trap '' TERM; sleep 60\n", 1);  // ignores SIGTERM: SIGKILL follows
  auto handle = target_->Start(l);
  ASSERT_TRUE(handle.ok());
  Observed o = WaitEnd(*handle, l.work_dir);
  EXPECT_EQ(o.state, Observed::State::kEnded);
  EXPECT_EQ(o.reason, "timeout");
  EXPECT_NE(Log(l.work_dir).find("time limit"), std::string::npos);
}

TEST_F(LocalTargetTest, AHandleOfAGoneProcessReadsTheOutcomeFile) {
  const std::string dir = root_ + "/runs/gone";
  fs::create_directories(dir);
  // No such process (pid 2^22 + 1 is above Linux's pid_max): the outcome file decides.
  EXPECT_EQ(target_->Poll("4194305:1", dir).state, Observed::State::kLost);
  std::ofstream(dir + "/" + kStatusFile) << "done exit 0\n";
  Observed o = target_->Poll("4194305:1", dir);
  EXPECT_EQ(o.state, Observed::State::kEnded);
  EXPECT_EQ(o.exit_code, 0);
}

TEST(ParseOutcome, ReadsOnlyWellFormedOutcomes) {
  EXPECT_EQ(ParseOutcome("timeout signal 9\n").exit_code, 137);
  EXPECT_TRUE(ParseOutcome("timeout signal 9\n").signaled);
  EXPECT_EQ(ParseOutcome("cancelled exit 143").reason, "cancelled");
  for (const char* bad : {"", "done", "done exit", "done exit -1", "done exit 256", "ok exit 0",
                          "done code 0", "done exit x"}) {
    EXPECT_EQ(ParseOutcome(bad).state, Observed::State::kLost) << bad;
  }
}

TEST(LocalTarget, RefusesRootAndUnknownUsers) {
  LocalTargetOptions o;
  o.user = "root";
  EXPECT_FALSE(LocalTarget::Create(o).ok());
  o.user = "no-such-user-tarn";
  EXPECT_FALSE(LocalTarget::Create(o).ok());
  if (::geteuid() == 0) {
    o.user = "";
    auto t = LocalTarget::Create(o);
    ASSERT_TRUE(t.ok());
    EXPECT_EQ((*t)->Available().reason(), Reason::kComputeUnavailable);
    EXPECT_FALSE((*t)->Start(Launch{}).ok());
  }
}

}  // namespace
}  // namespace tarn::compute
