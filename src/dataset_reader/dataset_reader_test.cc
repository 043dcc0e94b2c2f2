// The dataset reader's hermetic parts: a version's definition as the engine's request, and the
// server's error code kept in front of the engine's message.
#include "dataset_reader/dataset_reader.h"

#include <gtest/gtest.h>

#include "common/dev_account.h"

namespace tarn::dataset_reader {
namespace {

TEST(RequestForTest, TakesFormatOptionsAndTransformsOfADefinition) {
  nlohmann::json def = {
      {"kind", "tabular"},
      {"format", "csv"},
      {"options", {{"separator", ";"}, {"set_column_types", {{"amount", "float"}}}}},
      {"transforms", {{{"op", "take"}, {"count", 3}}, {{"op", "filter"}, {"expression", "a > 1"}}}}};
  auto r = RequestFor(def, ReadOptions{true, 7});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->format, tabular::Format::kCsv);
  EXPECT_EQ(r->options.separator, ";");
  EXPECT_EQ(r->options.set_column_types.at("amount"), "float");
  ASSERT_EQ(r->transforms.size(), 2u);
  EXPECT_EQ(r->transforms[1].expression, "a > 1");
  EXPECT_TRUE(r->fail_on_error);
  EXPECT_EQ(r->limit, 7);

  EXPECT_FALSE(RequestFor(nlohmann::json::array()).ok());
  EXPECT_FALSE(RequestFor({{"format", "xlsx"}}).ok());
  EXPECT_FALSE(RequestFor({{"format", "csv"}, {"transforms", {{{"op", "nope"}}}}}).ok());
}

TEST(CatalogFileOpenerTest, ExplainPutsTheFirstServerCodeFirst) {
  client::CatalogClientOptions o;
  o.key_base64 = kDevKey;
  auto c = client::CatalogClient::Create("http://127.0.0.1:9", o);
  ASSERT_TRUE(c.ok());
  CatalogFileOpener opener(**c, client::VersionRef{"ws", "d", 1});
  Status engine(Code::kFailedPrecondition, "a.csv: boom");
  EXPECT_EQ(opener.Explain(engine).message(), "a.csv: boom");
  opener.RecordError(Status(Code::kConflict, "DatasetDrift: a.csv changed (HTTP 409)"));
  opener.RecordError(Status(Code::kNotFound, "PathNotFound: later"));
  Status s = opener.Explain(Status(Code::kInternal, "a.csv: DatasetDrift: a.csv changed"));
  EXPECT_EQ(s.code(), Code::kConflict);
  EXPECT_EQ(client::ServerErrorCode(s), "DatasetDrift");
}

}  // namespace
}  // namespace tarn::dataset_reader
