#include "tabular/partition.h"

#include <gtest/gtest.h>

#include "tabular/tabular.h"

namespace tarn::tabular {
namespace {

using Values = std::map<std::string, std::string>;

TEST(PartitionTest, KeysInOrder) {
  auto keys = PartitionKeys("{region}/{day:yyyy/MM/dd}/*.csv");
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(*keys, (std::vector<std::string>{"region", "day"}));
  EXPECT_TRUE(PartitionKeys("")->empty());
  EXPECT_FALSE(PartitionKeys("{a}/{a}/x").ok());
  EXPECT_FALSE(PartitionKeys("{a/x").ok());
  EXPECT_FALSE(PartitionKeys("a}/x").ok());
  EXPECT_FALSE(PartitionKeys("{}/x").ok());
  EXPECT_FALSE(PartitionKeys("{d:yyyy/QQ}/x").ok());
  EXPECT_FALSE(PartitionKeys("{d:MM/dd}/x").ok());  // needs a year
}

TEST(PartitionTest, StringAndDatetimeValues) {
  auto v = PartitionValues("{region}/{day:yyyy/MM/dd}/*.csv", "sales/eu/2024/01/31/part.csv");
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_EQ(*v, (Values{{"region", "eu"}, {"day", "2024-01-31 00:00:00"}}));

  v = PartitionValues("/{Department}/{PartitionDate:yyyy/MM/dd}/data.parquet",
                      "/hr/2023/12/05/data.parquet");
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_EQ(*v, (Values{{"Department", "hr"}, {"PartitionDate", "2023-12-05 00:00:00"}}));

  v = PartitionValues("{ts:yyyy-MM-dd HH_mm_ss}/**", "x/2024-02-03 04_05_06/a/b/c.json");
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_EQ(*v, (Values{{"ts", "2024-02-03 04:05:06"}}));
}

TEST(PartitionTest, NonMatchingPathNamesIt) {
  auto v = PartitionValues("{region}/{day:yyyy/MM/dd}/*.csv", "sales/eu/2024/01/part.csv");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().reason(), Reason::kInvalidInput);
  EXPECT_NE(v.status().message().find("sales/eu/2024/01/part.csv"), std::string::npos);
  EXPECT_FALSE(PartitionValues("{d:yyyy/MM/dd}/x.csv", "2024/13/01/x.csv").ok());
}

// std::regex backtracked exponentially on many '*' (a fuzzing find: 40 of them against a
// 60-character path took longer than 10 s); matching is now linear in the path.
TEST(PartitionTest, ManyStarsDoNotHang) {
  const std::string format = std::string(40, '*') + "x";
  const std::string path = std::string(60, 'a');
  auto v = PartitionValues(format, path);
  EXPECT_FALSE(v.ok());
  v = PartitionValues("{k}/" + std::string(40, '*') + "x", "key/" + std::string(59, 'a') + "x");
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_EQ(*v, (Values{{"k", "key"}}));
}

TEST(PartitionTest, HiveFolders) {
  auto v = PartitionValues("", "data/year=2024/region=north%20east/file=x.csv");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, (Values{{"year", "2024"}, {"region", "north east"}}));
  EXPECT_TRUE(PartitionValues("", "plain/dir/file.csv")->empty());
}

TEST(PartitionTest, StrptimeFormats) {
  EXPECT_EQ(*StrptimeFormat("%Y-%m-%d"), "%Y-%m-%d");
  EXPECT_EQ(*StrptimeFormat("dd/MM/yyyy HH:mm:ss"), "%d/%m/%Y %H:%M:%S");
  EXPECT_FALSE(StrptimeFormat("dd/MM/yyyy tt").ok());
}

}  // namespace
}  // namespace tarn::tabular
