// Runs the SQL that BuildRunFilterSql makes against an in-memory database with the tracking
// schema and a few runs, and checks which runs match and in what order.
#include "store/tracking/sqlite/run_filter_sql.h"
#include "store/tracking/sqlite/sqlite_tracking_store.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "store/sqlite/sqlite_db.h"

namespace tarn::tracking {
namespace {

using Ids = std::vector<std::string>;


// r1..r4 in workspace "ws" (by start_time descending: r3, r2, r4, r1); x9 elsewhere.
constexpr const char* kRuns = R"sql(
INSERT INTO runs VALUES
  ('r1', 'ws', 1, 'alpha', 'ann', 'FINISHED', 1000, 2000, NULL, 'active', 's3://b/r1'),
  ('r2', 'ws', 1, 'beta',  'bob', 'RUNNING',  2000, NULL, NULL, 'active', 'file:///r2'),
  ('r3', 'ws', 2, 'Gamma', 'ann', 'FAILED',   3000, 3500, NULL, 'active', 's3://b/r3'),
  ('r4', 'ws', 2, 'delta', 'cy',  'FINISHED', 1500, 1600, NULL, 'active', 's3://B/r4'),
  ('x9', 'other', 1, 'alpha', 'ann', 'FINISHED', 1000, 2000, NULL, 'active', 's3://b/x9');
INSERT INTO latest_metrics VALUES
  ('r1', 'acc', 0.9, 1, 0, 0), ('r1', 'loss', 0.5, 1, 0, 0),
  ('r2', 'acc', NULL, 1, 0, 1), ('r2', 'loss', 0.7, 1, 0, 0),
  ('r3', 'acc', 0.5, 1, 0, 0), ('r3', 'loss', 1e6, 1, 0, 0),
  ('x9', 'acc', 0.9, 1, 0, 0);
INSERT INTO params VALUES
  ('r1', 'lr', '0.01'), ('r1', 'model', 'CNN'),
  ('r2', 'lr', '0.1'),  ('r2', 'model', 'cnn'),
  ('r3', 'model', 'rnn_v1'),
  ('r4', 'model', 'r*n?v[1]'),
  ('x9', 'lr', '0.01');
INSERT INTO tags VALUES
  ('r1', 'team', 'nlp'), ('r1', 'my key', 'v1'), ('r1', 'mlflow.note', 'it''s 100%'),
  ('r2', 'team', 'cv'),
  ('r4', 'team', 'NLP'), ('r4', 'my key', 'v2'),
  ('x9', 'team', 'nlp');
INSERT INTO run_inputs VALUES
  ('r1', 'train', 'd1', 'training', '{}'),
  ('r2', 'eval', 'd2', 'eval', '{}'), ('r2', 'train', 'd1', 'training', '{}'),
  ('r4', 'Train', 'd4', '', '{}');
)sql";

class RunFilterSqlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto conn = sqlite::Connection::Open(":memory:", /*read_only=*/false);
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    conn_ = std::move(*conn);
    ASSERT_TRUE(conn_->ExecScript(kTrackingSchema).ok());
    ASSERT_TRUE(conn_->ExecScript(kRuns).ok());
  }

  // The run ids of workspace "ws" that the filter and order select, in order.
  StatusOr<Ids> Search(std::string_view filter, const std::vector<std::string>& order = {}) {
    TARN_ASSIGN_OR_RETURN(std::vector<Clause> clauses, ParseRunFilter(filter));
    std::vector<OrderBy> orders;
    for (const std::string& item : order) {
      TARN_ASSIGN_OR_RETURN(OrderBy o, ParseRunOrderBy(item));
      orders.push_back(std::move(o));
    }
    TARN_ASSIGN_OR_RETURN(RunFilterSql f, BuildRunFilterSql(clauses, orders));
    std::string sql = "SELECT r.run_uuid FROM runs r WHERE r.ws = ? AND r.experiment_id IN (1, 2)"
                      " AND r.lifecycle_stage IN ('active') AND (" + f.where + ") ORDER BY ";
    if (!f.order_by.empty()) sql += f.order_by + ", ";
    sql += "r.start_time DESC, r.run_uuid";
    sqlite3_stmt* raw = nullptr;
    int rc = sqlite3_prepare_v2(conn_->db(), sql.c_str(), -1, &raw, nullptr);
    sqlite::StmtPtr stmt(raw);
    if (rc != SQLITE_OK) return sqlite::SqliteError(conn_->db(), rc, sql);
    int index = 1;
    rc = BindSqlValue(stmt.get(), index++, std::string("ws"));
    for (const SqlValue& v : f.where_binds) {
      if (rc == SQLITE_OK) rc = BindSqlValue(stmt.get(), index++, v);
    }
    for (const SqlValue& v : f.order_binds) {
      if (rc == SQLITE_OK) rc = BindSqlValue(stmt.get(), index++, v);
    }
    if (rc != SQLITE_OK) return sqlite::SqliteError(conn_->db(), rc, "bind");
    if (index - 1 != sqlite3_bind_parameter_count(stmt.get())) {
      return InternalError("bound " + std::to_string(index - 1) + " of " +
                           std::to_string(sqlite3_bind_parameter_count(stmt.get())));
    }
    Ids ids;
    while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
      ids.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(stmt.get(), 0)));
    }
    if (rc != SQLITE_DONE) return sqlite::SqliteError(conn_->db(), rc, sql);
    return ids;
  }

  Ids Find(std::string_view filter, const std::vector<std::string>& order = {}) {
    StatusOr<Ids> ids = Search(filter, order);
    EXPECT_TRUE(ids.ok()) << filter << ": " << ids.status().ToString();
    return ids.ok() ? *ids : Ids{"<error>"};
  }

  Ids Order(const std::vector<std::string>& order) { return Find("", order); }

  std::unique_ptr<sqlite::Connection> conn_;
};

TEST_F(RunFilterSqlTest, EmptyFilterMatchesEveryRun) {
  StatusOr<RunFilterSql> f = BuildRunFilterSql({}, {});
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->where, "1");
  EXPECT_TRUE(f->where_binds.empty());
  EXPECT_EQ(f->order_by, "");
  EXPECT_EQ(Find(""), (Ids{"r3", "r2", "r4", "r1"}));
}

TEST_F(RunFilterSqlTest, MetricsCompareTheLatestValueAndNaNNeverMatches) {
  EXPECT_EQ(Find("metrics.acc > 0.6"), (Ids{"r1"}));
  EXPECT_EQ(Find("metrics.acc < 1"), (Ids{"r3", "r1"}));  // r2's NaN does not match
  EXPECT_EQ(Find("metrics.acc != 0.9"), (Ids{"r3"}));     // nor NaN, nor a missing metric
  EXPECT_EQ(Find("metrics.acc >= 0.5"), (Ids{"r3", "r1"}));
  EXPECT_EQ(Find("metrics.acc <= 0.5"), (Ids{"r3"}));
  EXPECT_EQ(Find("metrics.acc = 0.5"), (Ids{"r3"}));
  EXPECT_EQ(Find("metric.loss = 5e-1"), (Ids{"r1"}));
  EXPECT_EQ(Find("metrics.loss > 1E5"), (Ids{"r3"}));
  EXPECT_EQ(Find("metrics.loss > -1 AND metrics.acc > 0"), (Ids{"r3", "r1"}));
  EXPECT_EQ(Find("metrics.nope > 0"), (Ids{}));
}

TEST_F(RunFilterSqlTest, ParamsAndTagsCompareExactly) {
  EXPECT_EQ(Find("params.model = 'CNN'"), (Ids{"r1"}));
  EXPECT_EQ(Find("params.model = \"cnn\""), (Ids{"r2"}));
  // != needs the key present with another value, as MLflow's join does.
  EXPECT_EQ(Find("params.lr != '0.01'"), (Ids{"r2"}));
  EXPECT_EQ(Find("tags.team != 'nlp'"), (Ids{"r2", "r4"}));
  EXPECT_EQ(Find("tags.\"my key\" = 'v1'"), (Ids{"r1"}));
  EXPECT_EQ(Find("tags.`my key` = 'v2'"), (Ids{"r4"}));
  EXPECT_EQ(Find("tags.`mlflow.note` = 'it''s 100%'"), (Ids{"r1"}));
  EXPECT_EQ(Find("tags.mlflow.note LIKE 'it''s%'"), (Ids{"r1"}));
  EXPECT_EQ(Find("params.model = 'CNN' AND tags.team = 'nlp'"), (Ids{"r1"}));
  EXPECT_EQ(Find("params.model = 'CNN' AND tags.team = 'cv'"), (Ids{}));
}

TEST_F(RunFilterSqlTest, LikeIsCaseSensitiveAndIlikeIsNot) {
  EXPECT_EQ(Find("params.model LIKE 'cnn'"), (Ids{"r2"}));
  EXPECT_EQ(Find("params.model LIKE 'CN%'"), (Ids{"r1"}));
  EXPECT_EQ(Find("params.model ILIKE 'cnn'"), (Ids{"r2", "r1"}));
  EXPECT_EQ(Find("params.model ilike 'C_N'"), (Ids{"r2", "r1"}));
  EXPECT_EQ(Find("tags.team LIKE 'NLP'"), (Ids{"r4"}));
  EXPECT_EQ(Find("tags.team ILIKE 'nlp'"), (Ids{"r4", "r1"}));
  EXPECT_EQ(Find("params.model LIKE 'r_n%'"), (Ids{"r3", "r4"}));
  EXPECT_EQ(Find("params.model LIKE '%'"), (Ids{"r3", "r2", "r4", "r1"}));
}

TEST_F(RunFilterSqlTest, GlobCharactersInLikePatternsAreLiteral) {
  // Unescaped, GLOB would read [1] as a class matching "1", ? and * as wildcards.
  EXPECT_EQ(Find("params.model LIKE '%[1]'"), (Ids{"r4"}));
  EXPECT_EQ(Find("params.model LIKE '%?%'"), (Ids{"r4"}));
  EXPECT_EQ(Find("params.model LIKE 'r*%'"), (Ids{"r4"}));
  EXPECT_EQ(Find("params.model LIKE 'r[*]%'"), (Ids{}));
  EXPECT_EQ(Find("params.model LIKE 'r*n?v[1]'"), (Ids{"r4"}));
  EXPECT_EQ(Find("params.model ILIKE 'R*N?V[1]'"), (Ids{"r4"}));
}

TEST_F(RunFilterSqlTest, TagsIsNullMeansNoSuchTag) {
  EXPECT_EQ(Find("tags.team IS NULL"), (Ids{"r3"}));
  EXPECT_EQ(Find("tags.team IS NOT NULL"), (Ids{"r2", "r4", "r1"}));
  EXPECT_EQ(Find("tags.`my key` IS NULL AND tags.team IS NOT NULL"), (Ids{"r2"}));
}

TEST_F(RunFilterSqlTest, ParamsIsNullMeansNoSuchParam) {
  EXPECT_EQ(Find("params.lr IS NULL"), (Ids{"r3", "r4"}));
  EXPECT_EQ(Find("params.lr IS NOT NULL AND params.model = 'cnn'"), (Ids{"r2"}));
}

TEST_F(RunFilterSqlTest, StringAttributes) {
  EXPECT_EQ(Find("attributes.run_name = 'alpha'"), (Ids{"r1"}));
  EXPECT_EQ(Find("run_name ILIKE 'gamma'"), (Ids{"r3"}));
  EXPECT_EQ(Find("run_name LIKE 'gamma'"), (Ids{}));
  EXPECT_EQ(Find("attributes.`Run Name` LIKE '%a'"), (Ids{"r3", "r2", "r4", "r1"}));
  EXPECT_EQ(Find("attributes.status = 'FINISHED'"), (Ids{"r4", "r1"}));
  EXPECT_EQ(Find("attr.status != 'FINISHED'"), (Ids{"r3", "r2"}));
  EXPECT_EQ(Find("user_id = 'ann'"), (Ids{"r3", "r1"}));
  EXPECT_EQ(Find("run.artifact_uri LIKE 's3://b/%'"), (Ids{"r3", "r1"}));
  EXPECT_EQ(Find("run.artifact_uri ILIKE 's3://b/%'"), (Ids{"r3", "r4", "r1"}));
  EXPECT_EQ(Find("attributes.run_id = 'r2'"), (Ids{"r2"}));
  EXPECT_EQ(Find("attributes.run_id IN ('r1', 'r3', 'x9')"), (Ids{"r3", "r1"}));
  EXPECT_EQ(Find("attributes.run_id NOT IN ('r1', 'r3')"), (Ids{"r2", "r4"}));
  EXPECT_EQ(Find("attributes.run_id LIKE 'r%' AND run_id != 'r4'"), (Ids{"r3", "r2", "r1"}));
}

TEST_F(RunFilterSqlTest, NumericAttributes) {
  EXPECT_EQ(Find("attributes.start_time >= 2000"), (Ids{"r3", "r2"}));
  EXPECT_EQ(Find("start_time > 1999.5"), (Ids{"r3", "r2"}));
  EXPECT_EQ(Find("attributes.created < 1600"), (Ids{"r4", "r1"}));
  EXPECT_EQ(Find("attributes.start_time = 1500"), (Ids{"r4"}));
  EXPECT_EQ(Find("attributes.end_time > 0"), (Ids{"r3", "r4", "r1"}));  // r2 has none
  EXPECT_EQ(Find("attributes.end_time != 2000"), (Ids{"r3", "r4"}));
  EXPECT_EQ(Find("attributes.start_time < 99999999999999999999"), (Ids{"r3", "r2", "r4", "r1"}));
}

TEST_F(RunFilterSqlTest, Datasets) {
  EXPECT_EQ(Find("datasets.name = 'train'"), (Ids{"r2", "r1"}));
  EXPECT_EQ(Find("dataset.name ILIKE 'train'"), (Ids{"r2", "r4", "r1"}));
  EXPECT_EQ(Find("datasets.name LIKE 'T%'"), (Ids{"r4"}));
  EXPECT_EQ(Find("datasets.context IN ('eval', 'nothing')"), (Ids{"r2"}));
  EXPECT_EQ(Find("datasets.digest NOT IN ('d1')"), (Ids{"r2", "r4"}));
  // A run with any input whose digest differs.
  EXPECT_EQ(Find("datasets.digest != 'd1'"), (Ids{"r2", "r4"}));
  EXPECT_EQ(Find("datasets.name = 'train' AND datasets.context = 'eval'"), (Ids{"r2"}));
  // r4's input has no context, which matches no context condition (MLflow joins the tag).
  EXPECT_EQ(Find("datasets.context != 'training'"), (Ids{"r2"}));
  EXPECT_EQ(Find("datasets.context NOT IN ('eval')"), (Ids{"r2", "r1"}));
  EXPECT_EQ(Find("datasets.context LIKE '%'"), (Ids{"r2", "r1"}));
}

TEST_F(RunFilterSqlTest, ValuesAndKeysAreBoundNotSpliced) {
  EXPECT_EQ(Find("params.`x'); DROP TABLE runs; --` = 'a'"), (Ids{}));
  EXPECT_EQ(Find("params.model = 'x'' OR 1=1 --'"), (Ids{}));
  EXPECT_EQ(Find("attributes.run_id IN ('r1'') OR (''1''=''1')"), (Ids{}));
  EXPECT_EQ(Find(""), (Ids{"r3", "r2", "r4", "r1"}));
  StatusOr<std::vector<Clause>> c = ParseRunFilter("params.`k'\"` = 'v''\"'");
  ASSERT_TRUE(c.ok());
  StatusOr<RunFilterSql> f = BuildRunFilterSql(*c, {});
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->where.find("k'"), std::string::npos) << f->where;
  EXPECT_EQ(f->where.find("v'"), std::string::npos) << f->where;
  ASSERT_EQ(f->where_binds.size(), 2u);
  EXPECT_EQ(std::get<std::string>(f->where_binds[0]), "k'\"");
  EXPECT_EQ(std::get<std::string>(f->where_binds[1]), "v'\"");
}

TEST_F(RunFilterSqlTest, OrderByMetricPutsNaNThenMissingLastBothWays) {
  EXPECT_EQ(Order({"metrics.acc ASC"}), (Ids{"r3", "r1", "r2", "r4"}));
  EXPECT_EQ(Order({"metrics.acc DESC"}), (Ids{"r1", "r3", "r2", "r4"}));
  EXPECT_EQ(Order({"metrics.loss"}), (Ids{"r1", "r2", "r3", "r4"}));
  EXPECT_EQ(Order({"metrics.loss desc"}), (Ids{"r3", "r2", "r1", "r4"}));
}

TEST_F(RunFilterSqlTest, OrderByParamsAndTagsPutsMissingLast) {
  // Byte order: "CNN" < "cnn" < "r*n?v[1]" < "rnn_v1".
  EXPECT_EQ(Order({"params.model"}), (Ids{"r1", "r2", "r4", "r3"}));
  EXPECT_EQ(Order({"params.model DESC"}), (Ids{"r3", "r4", "r2", "r1"}));
  // Runs without lr keep the default order (start_time descending) after the others.
  EXPECT_EQ(Order({"params.lr ASC"}), (Ids{"r1", "r2", "r3", "r4"}));
  EXPECT_EQ(Order({"params.lr DESC"}), (Ids{"r2", "r1", "r3", "r4"}));
  EXPECT_EQ(Order({"tags.team"}), (Ids{"r4", "r2", "r1", "r3"}));
  EXPECT_EQ(Order({"tags.team DESC"}), (Ids{"r1", "r2", "r4", "r3"}));
}

TEST_F(RunFilterSqlTest, OrderByAttributes) {
  EXPECT_EQ(Order({"attributes.end_time DESC"}), (Ids{"r3", "r1", "r4", "r2"}));
  EXPECT_EQ(Order({"end_time"}), (Ids{"r4", "r1", "r3", "r2"}));  // NULL last
  EXPECT_EQ(Order({"start_time ASC"}), (Ids{"r1", "r4", "r2", "r3"}));
  EXPECT_EQ(Order({"attributes.created DESC"}), (Ids{"r3", "r2", "r4", "r1"}));
  EXPECT_EQ(Order({"run_name"}), (Ids{"r3", "r1", "r2", "r4"}));  // "Gamma" sorts first
  EXPECT_EQ(Order({"attr.run_id DESC"}), (Ids{"r4", "r3", "r2", "r1"}));
  EXPECT_EQ(Order({"status", "user_id DESC"}), (Ids{"r3", "r4", "r1", "r2"}));
  EXPECT_EQ(Order({"artifact_uri"}), (Ids{"r2", "r4", "r1", "r3"}));
}

TEST_F(RunFilterSqlTest, SeveralOrderItemsWithAFilter) {
  EXPECT_EQ(Find("params.model ILIKE '%n%'", {"tags.team", "metrics.acc DESC"}),
            (Ids{"r4", "r2", "r1", "r3"}));
  EXPECT_EQ(Find("attributes.status = 'FINISHED'", {"metrics.acc DESC", "start_time"}),
            (Ids{"r1", "r4"}));
}

TEST_F(RunFilterSqlTest, RefusesDuplicateOrderFields) {
  for (const std::vector<std::string>& order :
       {std::vector<std::string>{"metrics.acc", "metric.acc DESC"},
        std::vector<std::string>{"start_time", "attributes.created DESC"}}) {
    StatusOr<Ids> ids = Search("", order);
    ASSERT_FALSE(ids.ok());
    EXPECT_EQ(ids.status().reason(), Reason::kMlflowInvalidParameterValue);
    EXPECT_NE(ids.status().message().find("duplicate"), std::string::npos);
  }
  // The same key under different entities is fine.
  EXPECT_EQ(Order({"params.model", "tags.model"}), (Ids{"r1", "r2", "r4", "r3"}));
}

TEST_F(RunFilterSqlTest, RefusesClausesTheParserWouldNot) {
  Clause bad_attr;
  bad_attr.entity = Entity::kAttribute;
  bad_attr.key = "lifecycle_stage";
  bad_attr.op = "=";
  Clause bad_op;
  bad_op.entity = Entity::kMetric;
  bad_op.key = "acc";
  bad_op.op = "; DROP";
  bad_op.number = 1;
  Clause no_number;
  no_number.entity = Entity::kMetric;
  no_number.key = "acc";
  no_number.op = ">";
  Clause list_on_param;
  list_on_param.entity = Entity::kParam;
  list_on_param.key = "p";
  list_on_param.op = "IN";
  list_on_param.list = {"a"};
  for (const Clause& c : {bad_attr, bad_op, no_number, list_on_param}) {
    StatusOr<RunFilterSql> f = BuildRunFilterSql({c}, {});
    ASSERT_FALSE(f.ok()) << c.key << " " << c.op;
    EXPECT_EQ(f.status().reason(), Reason::kMlflowInvalidParameterValue);
  }
  OrderBy dataset;
  dataset.entity = Entity::kDataset;
  dataset.key = "name";
  EXPECT_FALSE(BuildRunFilterSql({}, {dataset}).ok());
  std::vector<OrderBy> many(kMaxOrderByItems + 1);
  for (size_t i = 0; i < many.size(); ++i) {
    many[i].entity = Entity::kMetric;
    many[i].key = "m" + std::to_string(i);
  }
  EXPECT_FALSE(BuildRunFilterSql({}, many).ok());
  many.pop_back();
  EXPECT_TRUE(BuildRunFilterSql({}, many).ok());
}

TEST_F(RunFilterSqlTest, LargestFiltersStillRun) {
  std::string hundred;
  for (int i = 0; i < 100; ++i) {
    hundred += (i ? " AND " : "") + std::string("params.model LIKE '%'");
  }
  EXPECT_EQ(Find(hundred), (Ids{"r3", "r2", "r4", "r1"}));
  std::string list = "attributes.run_id NOT IN ('r1'";
  while (list.size() < 4000) list += ",''";
  list += ")";
  EXPECT_EQ(Find(list), (Ids{"r3", "r2", "r4"}));
}

}  // namespace
}  // namespace tarn::tracking
