#include "compute/job_spec.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "common/encoding.h"

namespace tarn::compute {
namespace {

using Json = nlohmann::json;

Json Job() {
  return Json{{"experiment_name", "exp"},
              {"script", "train.py"},
              {"snapshot", Json::array({Json{{"path", "train.py"},
                                             {"content", Base64Encode("print(1)\n")}},
                                        Json{{"path", "lib/util.py"},
                                             {"content", Base64Encode("")}}})}};
}

TEST(JobSpec, ParsesAJob) {
  Json j = Job();
  j["arguments"] = Json::array({"--alpha", 0.5, "it's"});
  j["environment"] = {{"name", "sk"}, {"pip", {"scikit-learn==1.9.1"}}};
  j["tags"] = {{"team", "ml"}};
  j["timeout_s"] = 60;
  auto spec = ParseJobSpec(j);
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->compute, "local");
  EXPECT_EQ(spec->arguments, (std::vector<std::string>{"--alpha", "0.5", "it's"}));
  EXPECT_EQ(spec->snapshot.size(), 2u);
  EXPECT_EQ(spec->snapshot[0].content, "print(1)\n");
  EXPECT_EQ(spec->environment.pip.size(), 1u);
  EXPECT_EQ(spec->timeout_s, 60);
}

TEST(JobSpec, RefusesUnsafeOrMissingParts) {
  auto refused = [](Json j, const std::string& why) {
    auto s = ParseJobSpec(j);
    EXPECT_FALSE(s.ok()) << j.dump();
    if (!s.ok()) {
      EXPECT_EQ(s.status().reason(), Reason::kInvalidJob);
      EXPECT_NE(s.status().message().find(why), std::string::npos) << s.status().message();
    }
  };
  for (const char* bad : {"../x.py", "/etc/passwd", "a//b.py", "a/./b.py", "a/", "a\\b.py",
                          "a/../../b"}) {
    Json j = Job();
    j["snapshot"].push_back(Json{{"path", bad}, {"content", ""}});
    refused(j, "snapshot path");
  }
  Json twice = Job();
  twice["snapshot"].push_back(twice["snapshot"][0]);
  refused(twice, "listed twice");
  Json missing = Job();
  missing["script"] = "other.py";
  refused(missing, "not in the snapshot");
  Json not_b64 = Job();
  not_b64["snapshot"][0]["content"] = "***";
  refused(not_b64, "not base64");
  Json option = Job();
  option["environment"] = {{"pip", {"--index-url=http://evil"}}};
  refused(option, "not a requirement specifier");
  Json relative = Job();
  relative["environment"] = {{"python", "bin/python"}};
  refused(relative, "absolute path");
  Json both = Job();
  both["environment"] = {{"python", "/usr/bin/python3"}, {"pip", {"six"}}};
  refused(both, "not both");
  Json compute = Job();
  compute["compute"] = "a b";
  refused(compute, "compute target");
  Json timeout = Job();
  timeout["timeout_s"] = 0;
  refused(timeout, "timeout_s");
  refused(Json::array(), "JSON object");
  Json no_experiment = Job();
  no_experiment.erase("experiment_name");
  refused(no_experiment, "experiment_name is required");
}

TEST(JobSpec, InputsAndOutputsAreCheckedAndBecomeFolders) {
  Json j = Job();
  j["inputs"] = Json::array({{{"name", "sales"}, {"dataset", "sales_by_region"}, {"version", 2}}});
  j["outputs"] = Json::array({{{"name", "predictions"},
                               {"datastore", "product"},
                               {"path", "predictions/{run-id}"},
                               {"register_as", "predictions"},
                               {"format", "csv"}}});
  j["arguments"] = Json::array({"{inputs.sales}", "{outputs.predictions}", "{inputs.other}"});
  auto spec = ParseJobSpec(j);
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->inputs[0].version, "2");
  EXPECT_EQ(spec->outputs[0].path, "predictions/{run-id}");
  ResolveDataArguments(*spec, "/runs/r1");
  EXPECT_EQ(spec->arguments, (std::vector<std::string>{"/runs/r1/datasets/inputs/sales",
                                                       "/runs/r1/datasets/outputs/predictions",
                                                       "{inputs.other}"}));

  auto refused = [](Json bad, const std::string& why) {
    auto s = ParseJobSpec(bad);
    ASSERT_FALSE(s.ok()) << bad.dump();
    EXPECT_NE(s.status().message().find(why), std::string::npos) << s.status().message();
  };
  Json mount = Job();
  mount["inputs"] = Json::array({{{"name", "s"}, {"dataset", "d"}, {"mode", "mount"}}});
  refused(mount, "as_download()");
  Json escape = Job();
  escape["outputs"] = Json::array({{{"name", "o"}, {"datastore", "d"}, {"path", "../x"}}});
  refused(escape, "relative");
  Json both = Job();
  both["inputs"] = Json::array({{{"name", "x"}, {"dataset", "d"}}});
  both["outputs"] = Json::array({{{"name", "x"}, {"datastore", "d"}, {"path", "p"}}});
  refused(both, "an input and an output");
  Json badname = Job();
  badname["inputs"] = Json::array({{{"name", "a-b"}, {"dataset", "d"}}});
  refused(badname, "letters, digits");
}

TEST(JobSpec, LimitsTheSnapshot) {
  SpecLimits limits;
  limits.max_snapshot_bytes = 8;
  Json j = Job();
  j["snapshot"][1]["content"] = Base64Encode("123456789");
  auto s = ParseJobSpec(j, limits);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("larger than"), std::string::npos);
}

TEST(JobSpec, EnvironmentHashIgnoresOrder) {
  EnvironmentSpec a{"x", {"six==1.17.0", "idna==3.10"}, ""};
  EnvironmentSpec b{"y", {"idna==3.10", "six==1.17.0"}, ""};
  EXPECT_EQ(EnvironmentHash(a, "/usr/bin/python3"), EnvironmentHash(b, "/usr/bin/python3"));
  EXPECT_NE(EnvironmentHash(a, "/usr/bin/python3"), EnvironmentHash(a, "/opt/python"));
  EXPECT_EQ(EnvironmentHash(EnvironmentSpec{}, "/usr/bin/python3"), "");
}

// The launch script, run by a real sh: every argument arrives exactly as given, whatever
// shell syntax it holds.
TEST(JobSpec, LaunchScriptPassesArgumentsVerbatim) {
  JobSpec spec;
  spec.script = "echo.sh";
  spec.arguments = {"it's", "$(touch /tmp/tarn-pwned)", "a b", "`id`", "\"q\"", "*", ""};
  char dir_template[] = "/tmp/tarn-launch-XXXXXX";
  ASSERT_NE(::mkdtemp(dir_template), nullptr);
  const std::string dir = dir_template;
  // The "interpreter" prints its arguments one per line, bracketed.
  const std::string fake = dir + "/python";
  {
    FILE* f = std::fopen(fake.c_str(), "w");
    std::fputs("#!/bin/sh\nfor a in \"$@\"; do printf '[%s]\\n' \"$a\"; done\n", f);
    std::fclose(f);
    ::chmod(fake.c_str(), 0755);
  }
  const std::string script = LaunchScript(spec, LaunchPaths{dir, fake, dir + "/envs"});
  const std::string sh = dir + "/launch.sh";
  {
    FILE* f = std::fopen(sh.c_str(), "w");
    std::fputs(script.c_str(), f);
    std::fclose(f);
  }
  FILE* p = ::popen(("/bin/sh " + sh).c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[256];
  while (size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  EXPECT_EQ(::pclose(p), 0);
  EXPECT_EQ(out,
            "[-u]\n[./echo.sh]\n[it's]\n[$(touch /tmp/tarn-pwned)]\n[a b]\n[`id`]\n[\"q\"]\n[*]\n"
            "[]\n");
  EXPECT_NE(::access("/tmp/tarn-pwned", F_OK), 0);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tarn::compute
