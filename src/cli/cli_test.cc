// The tarn CLI's hermetic parts: connection resolution (flags, environment, config.json
// discovery, the loopback-only development key) and output formatting.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "cli/connection.h"
#include "cli/output.h"
#include "client/discovery.h"
#include "common/dev_account.h"

namespace tarn::cli {
namespace {

namespace fs = std::filesystem;

class ConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("tarn_cli_test_" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_ / "proj" / ".azureml");
    fs::create_directories(root_ / "proj" / "src" / "deep");
    std::ofstream(root_ / "proj" / ".azureml" / "config.json")
        << R"({"subscription_id":"s","resource_group":"r","workspace_name":"ws1",
              "tarn_endpoint":"http://127.0.0.1:9999/acct2"})";
  }
  void TearDown() override { fs::remove_all(root_); }
  EnvLookup Env() {
    return [this](const std::string& k) -> std::optional<std::string> {
      auto it = env_.find(k);
      if (it == env_.end()) return std::nullopt;
      return it->second;
    };
  }
  fs::path root_;
  std::map<std::string, std::string> env_;
};

TEST_F(ConnectionTest, FindsConfigInAzuremlOfAParent) {
  auto p = client::FindConfig((root_ / "proj" / "src" / "deep").string());
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(*p, (root_ / "proj" / ".azureml" / "config.json").string());
  auto c = ResolveConnection({}, Env(), (root_ / "proj" / "src").string());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->workspace, "ws1");
  EXPECT_EQ(c->account, "acct2");  // from the endpoint's path
  EXPECT_EQ(c->key, kDevKey);      // loopback only
}

TEST_F(ConnectionTest, FlagsBeatEnvironmentWhichBeatsConfig) {
  env_["TARN_WORKSPACE"] = "from-env";
  env_["TARN_ENDPOINT"] = "http://10.1.2.3:10000";
  env_["TARN_ACCOUNT_KEY"] = "a2V5";
  ConnectionFlags f;
  f.workspace = "from-flag";
  auto c = ResolveConnection(f, Env(), (root_ / "proj").string());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->workspace, "from-flag");
  EXPECT_EQ(c->endpoint, "http://10.1.2.3:10000");
  EXPECT_EQ(c->key, "a2V5");
}

TEST_F(ConnectionTest, NoDevelopmentKeyOffLoopbackAndNoEndpointIsAnError) {
  env_["TARN_ENDPOINT"] = "http://10.1.2.3:10000";
  auto c = ResolveConnection({}, Env(), root_.string());
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("TARN_ACCOUNT_KEY"), std::string::npos);
  env_.clear();
  auto none = ResolveConnection({}, Env(), root_.string());
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("--endpoint"), std::string::npos);
}

TEST_F(ConnectionTest, AKeptSignInIsUsedUnlessAKeyIsGiven) {
  const fs::path home = root_ / "home";
  client::Login login;
  login.endpoint = login.authority = "https://127.0.0.1:10443";
  login.tenant = "t1";
  login.username = "ada@contoso.example";
  login.refresh_token = "tarn.rt.x";
  ASSERT_TRUE(client::WriteLogin(home.string(), login).ok());
  EXPECT_EQ(fs::status(home / "login.json").permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_EQ(fs::status(home).permissions() & fs::perms::all, fs::perms::owner_all);
  env_["TARN_HOME"] = home.string();
  // config.json names http://127.0.0.1:9999: the sign-in's https endpoint of that host is used.
  auto c = ResolveConnection({}, Env(), (root_ / "proj").string());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_TRUE(c->login.has_value());
  EXPECT_EQ(c->endpoint, "https://127.0.0.1:10443");
  EXPECT_EQ(c->key, "");
  EXPECT_EQ(c->login->username, "ada@contoso.example");
  // Another host is not silently swapped for the sign-in's.
  env_["TARN_ENDPOINT"] = "http://10.1.2.3:10000";
  auto other = ResolveConnection({}, Env(), root_.string());
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.status().message().find("tarn login --endpoint https://10.1.2.3"),
            std::string::npos);
  // An account key, when given, is used instead.
  env_["TARN_ACCOUNT_KEY"] = "a2V5";
  auto keyed = ResolveConnection({}, Env(), root_.string());
  ASSERT_TRUE(keyed.ok());
  EXPECT_FALSE(keyed->login.has_value());
  EXPECT_EQ(keyed->key, "a2V5");
  // A login file others may read is refused; logging out removes it.
  env_.erase("TARN_ACCOUNT_KEY");
  env_.erase("TARN_ENDPOINT");
  fs::permissions(home / "login.json", fs::perms::group_read, fs::perm_options::add);
  auto loose = ResolveConnection({}, Env(), root_.string());
  ASSERT_FALSE(loose.ok());
  EXPECT_NE(loose.status().message().find("chmod 600"), std::string::npos);
  auto removed = client::RemoveLogin(home.string());
  ASSERT_TRUE(removed.ok() && *removed);
  EXPECT_FALSE(fs::exists(home / "login.json"));
}

TEST_F(ConnectionTest, DiscoveryIsTheSdksToo) {
  // aml_config/ (azureml's older place) is searched as .azureml/ is; a file is taken as it is.
  fs::create_directories(root_ / "old" / "aml_config");
  std::ofstream(root_ / "old" / "aml_config" / "ws.json") << "{}";
  auto p = client::FindConfig((root_ / "old").string(), "ws.json");
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(*p, (root_ / "old" / "aml_config" / "ws.json").string());
  EXPECT_EQ(client::FindConfig(*p), p);
  EXPECT_EQ(client::DevelopmentKeyFor("http://127.0.0.1:10000"), std::string(kDevKey));
  EXPECT_EQ(client::DevelopmentKeyFor("https://localhost:1/acct"), std::string(kDevKey));
  EXPECT_EQ(client::DevelopmentKeyFor("http://[::1]:10000"), std::string(kDevKey));
  EXPECT_EQ(client::DevelopmentKeyFor("http://10.1.2.3:10000"), std::nullopt);
  EXPECT_EQ(client::DevelopmentKeyFor("not a url"), std::nullopt);
}

TEST(OutputTest, TablesAlignWithoutTrailingSpaces) {
  EXPECT_EQ(FormatTable({"NAME", "VERSION"}, {{"sales", "2"}, {"a", "10"}}),
            "NAME   VERSION\nsales  2\na      10\n");
  EXPECT_EQ(FormatBytes(512), "512 B");
  EXPECT_EQ(FormatBytes(1536), "1.5 KiB");
  EXPECT_EQ(ProgressBar::Render(50, 100, 1.0).substr(0, 32),
            "[" + std::string(15, '#') + std::string(15, '.') + "]");
  nlohmann::json j = {{"s", "x"}, {"n", 3}, {"z", nullptr}};
  EXPECT_EQ(Cell(j, "s"), "x");
  EXPECT_EQ(Cell(j, "n"), "3");
  EXPECT_EQ(Cell(j, "z"), "");
  EXPECT_EQ(Cell(j, "missing"), "");
}

}  // namespace
}  // namespace tarn::cli
