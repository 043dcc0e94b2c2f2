#include "compute/slurm_target.h"

#include <gtest/gtest.h>

namespace tarn::compute {
namespace {

// `scontrol show job -o` records, as Slurm 22.05 prints them (trimmed).
TEST(ParseSlurmJob, ReadsStateAndExitCode) {
  Observed running = ParseSlurmJob("JobId=7 JobName=tarn-x UserId=tarnrun(999) JobState=RUNNING "
                                   "Reason=None ExitCode=0:0");
  EXPECT_EQ(running.state, Observed::State::kRunning);
  EXPECT_EQ(ParseSlurmJob("JobId=7 JobState=PENDING Reason=Priority ExitCode=0:0").state,
            Observed::State::kRunning);

  Observed failed = ParseSlurmJob("JobId=8 JobName=tarn-y JobState=FAILED Reason=NonZeroExitCode "
                                  "Dependency=(null) ExitCode=3:0");
  EXPECT_EQ(failed.state, Observed::State::kEnded);
  EXPECT_EQ(failed.reason, "done");
  EXPECT_EQ(failed.exit_code, 3);

  Observed ok = ParseSlurmJob("JobId=9 JobState=COMPLETED Reason=None ExitCode=0:0");
  EXPECT_EQ(ok.exit_code, 0);
  EXPECT_EQ(ok.reason, "done");

  Observed cancelled = ParseSlurmJob("JobId=10 JobState=CANCELLED Reason=None ExitCode=0:15");
  EXPECT_EQ(cancelled.reason, "cancelled");
  EXPECT_TRUE(cancelled.signaled);
  EXPECT_EQ(cancelled.exit_code, 143);

  EXPECT_EQ(ParseSlurmJob("JobId=11 JobState=TIMEOUT ExitCode=0:0").reason, "timeout");
  // A node failure is a failure, even with exit code 0.
  Observed node = ParseSlurmJob("JobId=12 JobState=NODE_FAIL ExitCode=0:0");
  EXPECT_EQ(node.state, Observed::State::kEnded);
  EXPECT_NE(node.exit_code, 0);
}

TEST(ParseSlurmJob, RefusesWhatIsNotAJobRecord) {
  EXPECT_EQ(ParseSlurmJob("").state, Observed::State::kLost);
  EXPECT_EQ(ParseSlurmJob("slurm_load_jobs error: Invalid job id specified").state,
            Observed::State::kLost);
  EXPECT_EQ(ParseSlurmJob("JobState=COMPLETED").state, Observed::State::kLost);
  EXPECT_EQ(ParseSlurmJob("JobId=9 JobState=FAILED ExitCode=0:999999").state,
            Observed::State::kLost);
  EXPECT_EQ(ParseSlurmJob("JobId=9 JobState=FAILED ExitCode=-1:0").state,
            Observed::State::kLost);
}

}  // namespace
}  // namespace tarn::compute
