// The engine end to end, files served from memory (the FileOpener's real use) or from disk.
#include "tabular/tabular.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

namespace tarn::tabular {
namespace {

// Files held in memory; counts what DuckDB reads.
class MemoryOpener : public FileOpener {
 public:
  void Add(const std::string& path, std::string bytes) {
    data_[path] = std::make_shared<const std::string>(std::move(bytes));
    files_.push_back(SourceFile{path, path, static_cast<int64_t>(data_[path]->size())});
  }
  const std::vector<SourceFile>& files() const { return files_; }

  StatusOr<std::unique_ptr<RandomAccessFile>> Open(const SourceFile& f) override {
    auto it = data_.find(f.key);
    if (it == data_.end()) return Error(Reason::kPathNotFound, "the path does not exist");
    ++opens;
    return std::unique_ptr<RandomAccessFile>(std::make_unique<File>(it->second, this));
  }

  std::atomic<int64_t> opens{0};
  std::atomic<int64_t> bytes_read{0};
  std::atomic<int64_t> fail_reads_after{-1};  // >= 0: ReadAt fails once this many bytes were read

 private:
  class File : public RandomAccessFile {
   public:
    File(std::shared_ptr<const std::string> bytes, MemoryOpener* owner)
        : bytes_(std::move(bytes)), owner_(owner) {}
    int64_t Size() const override { return static_cast<int64_t>(bytes_->size()); }
    StatusOr<size_t> ReadAt(int64_t offset, char* buf, size_t n) override {
      const int64_t limit = owner_->fail_reads_after.load();
      if (limit >= 0 && owner_->bytes_read.load() >= limit) {
        return Error(Reason::kServerBusy, "injected read failure");
      }
      if (offset >= Size()) return size_t{0};
      const size_t got = std::min(n, bytes_->size() - static_cast<size_t>(offset));
      std::memcpy(buf, bytes_->data() + offset, got);
      owner_->bytes_read += static_cast<int64_t>(got);
      return got;
    }

   private:
    std::shared_ptr<const std::string> bytes_;
    MemoryOpener* owner_;
  };

  std::map<std::string, std::shared_ptr<const std::string>> data_;
  std::vector<SourceFile> files_;
};

// A fresh directory under the test's temporary directory, removed afterwards.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "tarn_tabular_XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A column's values as text, "null" for nulls: easy to compare whatever the type.
std::vector<std::string> Values(const Table& t, const std::string& name) {
  for (const Column& c : t.columns) {
    if (c.name != name) continue;
    std::vector<std::string> out;
    for (int64_t i = 0; i < t.rows; ++i) {
      if (!c.valid.empty() && !c.valid[i]) {
        out.push_back("null");
        continue;
      }
      switch (c.type) {
        case Column::Type::kInt64:
        case Column::Type::kTimestampUs:
          out.push_back(std::to_string(c.i64[i]));
          break;
        case Column::Type::kDouble: {
          std::ostringstream os;
          os << c.f64[i];
          out.push_back(os.str());
          break;
        }
        case Column::Type::kBool:
          out.push_back(c.b[i] ? "true" : "false");
          break;
        case Column::Type::kString:
          out.push_back(std::string(c.String(i)));
          break;
      }
    }
    return out;
  }
  ADD_FAILURE() << "no column " << name;
  return {};
}

std::vector<std::string> Names(const Table& t) {
  std::vector<std::string> out;
  for (const Column& c : t.columns) out.push_back(c.name);
  return out;
}

const ColumnProfile& ProfileOf(const Profile& p, const std::string& name) {
  for (const ColumnProfile& c : p.columns) {
    if (c.name == name) return c;
  }
  static const ColumnProfile kNone;
  ADD_FAILURE() << "no profile for " << name;
  return kNone;
}

class EngineTest : public ::testing::Test {
 protected:
  ReadRequest Req(Format f = Format::kCsv) {
    ReadRequest r;
    r.format = f;
    return r;
  }
  Table MustRead(FileOpener& o, const std::vector<SourceFile>& files, const ReadRequest& r) {
    StatusOr<Table> t = engine_.Read(o, files, r);
    EXPECT_TRUE(t.ok()) << t.status().message();
    return t.ok() ? std::move(*t) : Table{};
  }
  Table MustRead(MemoryOpener& o, const ReadRequest& r) { return MustRead(o, o.files(), r); }
  std::vector<ColumnInfo> MustSchema(MemoryOpener& o, const ReadRequest& r) {
    StatusOr<std::vector<ColumnInfo>> s = engine_.Schema(o, o.files(), r);
    EXPECT_TRUE(s.ok()) << s.status().message();
    return s.ok() ? *s : std::vector<ColumnInfo>{};
  }

  static Engine engine_;
};

Engine EngineTest::engine_;

TEST_F(EngineTest, CsvHeaderAndTypeInference) {
  MemoryOpener o;
  o.Add("sales/a.csv",
        "id,name,amount,ok,when\n1,ann,2.5,true,2024-01-02 03:04:05\n"
        "2,bob,,false,2024-02-03 00:00:00\n");
  EXPECT_EQ(MustSchema(o, Req()), (std::vector<ColumnInfo>{{"id", "BIGINT"},
                                                           {"name", "VARCHAR"},
                                                           {"amount", "DOUBLE"},
                                                           {"ok", "BOOLEAN"},
                                                           {"when", "TIMESTAMP"}}));
  Table t = MustRead(o, Req());
  ASSERT_EQ(t.rows, 2);
  EXPECT_EQ(t.columns[0].type, Column::Type::kInt64);
  EXPECT_EQ(t.columns[2].type, Column::Type::kDouble);
  EXPECT_EQ(t.columns[3].type, Column::Type::kBool);
  EXPECT_EQ(t.columns[4].type, Column::Type::kTimestampUs);
  EXPECT_EQ(Values(t, "id"), (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(Values(t, "name"), (std::vector<std::string>{"ann", "bob"}));
  EXPECT_EQ(Values(t, "amount"), (std::vector<std::string>{"2.5", "null"}));
  EXPECT_EQ(Values(t, "ok"), (std::vector<std::string>{"true", "false"}));
  EXPECT_EQ(Values(t, "when")[0], "1704164645000000");  // 2024-01-02T03:04:05Z in microseconds
}

TEST_F(EngineTest, HistogramsSplitEachNumericColumnsRangeEvenly) {
  MemoryOpener o;
  std::string csv = "n,x,flat,name,empty\n";
  for (int i = 0; i < 100; ++i) {
    csv += std::to_string(i) + "," + std::to_string(i * 0.5) + ",7,row" + std::to_string(i) + ",\n";
  }
  o.Add("h.csv", csv);
  ReadRequest r = Req();
  r.options.set_column_types = {{"empty", "float"}};
  auto h = engine_.Histograms(o, o.files(), r, 10);
  ASSERT_TRUE(h.ok()) << h.status().message();
  ASSERT_EQ(h->size(), 4u);  // n, x, flat, empty: not the text column
  EXPECT_EQ((*h)[0].name, "n");
  EXPECT_EQ((*h)[0].low, 0);
  EXPECT_EQ((*h)[0].high, 99);
  EXPECT_EQ((*h)[0].counts, std::vector<int64_t>(10, 10));  // 0-9.9 ... 89.1-99 (99 included)
  EXPECT_EQ((*h)[1].counts, std::vector<int64_t>(10, 10));
  EXPECT_EQ((*h)[2].counts, std::vector<int64_t>{100});    // one value: one bin
  EXPECT_TRUE((*h)[3].counts.empty());                       // no value: no bin
  auto named = engine_.Histograms(o, o.files(), r, 3, {"x"});
  ASSERT_TRUE(named.ok()) << named.status().message();
  ASSERT_EQ(named->size(), 1u);
  EXPECT_EQ((*named)[0].counts, (std::vector<int64_t>{33, 33, 34}));
  // Bounds given (a profile's): the same bins without the scan that finds them.
  auto given = engine_.Histograms(o, o.files(), r, 3, {"x"}, {{"x", {0.0, 49.5}}});
  ASSERT_TRUE(given.ok()) << given.status().message();
  EXPECT_EQ((*given)[0].counts, (std::vector<int64_t>{33, 33, 34}));
  for (auto [bins, cols] : {std::pair{0, std::vector<std::string>{}},
                            std::pair{101, std::vector<std::string>{}},
                            std::pair{5, std::vector<std::string>{"name"}},
                            std::pair{5, std::vector<std::string>{"nope"}}}) {
    auto bad = engine_.Histograms(o, o.files(), r, bins, cols);
    EXPECT_FALSE(bad.ok()) << bins;
    EXPECT_EQ(bad.status().reason(), Reason::kInvalidInput) << bad.status().message();
  }
}

TEST_F(EngineTest, CsvNoHeaderOtherSeparatorAllText) {
  MemoryOpener o;
  o.Add("x.csv", "1;ann\n2;bob\n");
  ReadRequest r = Req();
  r.options.header = false;
  r.options.separator = ";";
  Table t = MustRead(o, r);
  ASSERT_EQ(t.columns.size(), 2u);
  EXPECT_EQ(t.rows, 2);
  EXPECT_EQ(t.columns[0].type, Column::Type::kInt64);
  r.options.infer_column_types = false;
  t = MustRead(o, r);
  EXPECT_EQ(t.columns[0].type, Column::Type::kString);
  EXPECT_EQ(Values(t, t.columns[0].name), (std::vector<std::string>{"1", "2"}));
}

TEST_F(EngineTest, CsvQuotedMultiLineFields) {
  MemoryOpener o;
  o.Add("q.csv", "id,text\n1,\"hello\nworld\"\n2,\"say \"\"hi\"\", twice\"\n");
  ReadRequest r = Req();
  r.options.support_multi_line = true;
  Table t = MustRead(o, r);
  EXPECT_EQ(Values(t, "text"), (std::vector<std::string>{"hello\nworld", "say \"hi\", twice"}));
}

TEST_F(EngineTest, CsvEmptyAsString) {
  MemoryOpener o;
  o.Add("e.csv", "a,b\n1,\n2,x\n");
  EXPECT_EQ(Values(MustRead(o, Req()), "b"), (std::vector<std::string>{"null", "x"}));
  ReadRequest r = Req();
  r.options.empty_as_string = true;
  EXPECT_EQ(Values(MustRead(o, r), "b"), (std::vector<std::string>{"", "x"}));
}

TEST_F(EngineTest, CsvLatin1Encoding) {
  MemoryOpener o;
  o.Add("l.csv", "city\nZ\xfcrich\n");
  ReadRequest r = Req();
  r.options.encoding = "latin1";
  EXPECT_EQ(Values(MustRead(o, r), "city"), (std::vector<std::string>{"Z\xc3\xbcrich"}));
}

TEST_F(EngineTest, SetColumnTypes) {
  MemoryOpener o;
  o.Add("t.csv", "code,amount,day,flag\n007,1,31/01/2024,true\n010,2.5,01/02/2024,false\n");
  ReadRequest r = Req();
  r.options.set_column_types = {
      {"code", "string"}, {"amount", "float"}, {"day", "datetime:dd/MM/yyyy"}, {"flag", "bool"}};
  EXPECT_EQ(
      MustSchema(o, r),
      (std::vector<ColumnInfo>{
          {"code", "VARCHAR"}, {"amount", "DOUBLE"}, {"day", "TIMESTAMP"}, {"flag", "BOOLEAN"}}));
  Table t = MustRead(o, r);
  EXPECT_EQ(Values(t, "code"), (std::vector<std::string>{"007", "010"}));  // the file's text
  EXPECT_EQ(Values(t, "amount"), (std::vector<std::string>{"1", "2.5"}));
  EXPECT_EQ(Values(t, "day")[0], "1706659200000000");  // 2024-01-31
  r.options.set_column_types = {{"day", "datetime:%d/%m/%Y"}};
  EXPECT_EQ(Values(MustRead(o, r), "day")[1], "1706745600000000");  // 2024-02-01

  r.options.set_column_types = {{"nope", "long"}};
  StatusOr<Table> bad = engine_.Read(o, o.files(), r);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().reason(), Reason::kInvalidInput);
  EXPECT_NE(bad.status().message().find("nope"), std::string::npos);
}

TEST_F(EngineTest, ConversionFailureFailsOrGivesNull) {
  MemoryOpener o;
  o.Add("sales/2024/a.csv", "id,amount\n1,10\n2,20\n");
  o.Add("sales/2024/x.csv", "id,amount\n3,30\n4,abc\n");
  ReadRequest r = Req();
  r.options.set_column_types = {{"amount", "long"}};
  Table t = MustRead(o, r);
  EXPECT_EQ(Values(t, "amount"), (std::vector<std::string>{"10", "20", "30", "null"}));

  r.fail_on_error = true;
  StatusOr<Table> bad = engine_.Read(o, o.files(), r);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(bad.status().message(),
            "sales/2024/x.csv: could not convert 'abc' to BIGINT in column amount");
  StatusOr<Profile> p = engine_.ProfileFiles(o, o.files(), r);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("sales/2024/x.csv"), std::string::npos);
}

TEST_F(EngineTest, MalformedCsvNamesTheFile) {
  MemoryOpener o;
  o.Add("good.csv", "a,b\n1,2\n");
  o.Add("dir/bad file.csv", "a,b\n1,2\n3,4,5,6\n");
  StatusOr<Table> t = engine_.Read(o, o.files(), Req());
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(t.status().message().rfind("dir/bad file.csv: ", 0), 0u) << t.status().message();
  EXPECT_EQ(t.status().message().find("tarn://"), std::string::npos) << t.status().message();
}

TEST_F(EngineTest, OpenerErrorsComeBackAsTheirStatus) {
  MemoryOpener o;
  o.Add("a.csv", "x\n1\n");
  std::vector<SourceFile> files = o.files();
  files.push_back(SourceFile{"missing.csv", "lake/missing.csv", 10});
  StatusOr<Table> t = engine_.Read(o, files, Req());
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().reason(), Reason::kPathNotFound);
  EXPECT_EQ(t.status().message(), "lake/missing.csv: the path does not exist");

  MemoryOpener failing;
  failing.Add("b.csv", "x\n" + std::string(100000, '1') + "\n");
  failing.fail_reads_after = 0;
  t = engine_.Read(failing, failing.files(), Req());
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().reason(), Reason::kServerBusy);
  EXPECT_EQ(t.status().message(), "b.csv: injected read failure");
}

TEST_F(EngineTest, JsonLines) {
  MemoryOpener o;
  o.Add("a.jsonl",
        "{\"id\": 1, \"name\": \"ann\", \"tags\": [\"x\"]}\n{\"id\": 2, \"name\": null}\n");
  Table t = MustRead(o, Req(Format::kJsonLines));
  EXPECT_EQ(Values(t, "id"), (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(Values(t, "name"), (std::vector<std::string>{"ann", "null"}));
  EXPECT_EQ(Values(t, "tags"), (std::vector<std::string>{"[x]", "null"}));

  MemoryOpener bad;
  bad.Add("logs/b.jsonl", "{\"id\": 1}\n{\"id\": 2,,}\n{\"id\": 3}\n");
  StatusOr<Table> err = engine_.Read(bad, bad.files(), Req(Format::kJsonLines));
  ASSERT_FALSE(err.ok());
  EXPECT_EQ(err.status().message().rfind("logs/b.jsonl: ", 0), 0u) << err.status().message();
  ReadRequest drop = Req(Format::kJsonLines);
  drop.options.invalid_lines = "drop";
  EXPECT_EQ(Values(MustRead(bad, drop), "id"), (std::vector<std::string>{"1", "3"}));
}

TEST_F(EngineTest, CsvLinesThatCannotBeReadAreDroppedAndRecorded) {
  MemoryOpener o;
  std::string rows = "id,amount\n";
  for (int i = 0; i < 50; ++i) rows += std::to_string(i) + "," + std::to_string(i) + ".5\n";
  o.Add("sales/a.csv", rows);
  o.Add("sales/b.csv", rows + "50,1.0,extra,cols\n51,2.5\n");
  StatusOr<Profile> strict = engine_.ProfileFiles(o, o.files(), Req());
  ASSERT_FALSE(strict.ok());
  ReadRequest drop = Req();
  drop.options.invalid_lines = "drop";
  StatusOr<Profile> p = engine_.ProfileFiles(o, o.files(), drop);
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p->row_count, 101);
  EXPECT_EQ(p->rejected_lines, 1);
  ASSERT_EQ(p->rejected.size(), 1u);
  EXPECT_EQ(p->rejected[0].path, "sales/b.csv");
  EXPECT_EQ(p->rejected[0].line, 52);  // the header is line 1
  EXPECT_NE(p->rejected[0].error.find("TOO MANY COLUMNS"), std::string::npos);
  // Readers of the same definition leave the same line out.
  EXPECT_EQ(MustRead(o, drop).rows, 101);
  EXPECT_EQ(p->unreadable_file, "");
  // A file of another shape (every line rejected) is named.
  o.Add("sales/c.csv", "id,amount\n1,2,3\n4,5,6\n");
  StatusOr<Profile> shape = engine_.ProfileFiles(o, o.files(), drop);
  ASSERT_TRUE(shape.ok()) << shape.status().message();
  EXPECT_EQ(shape->unreadable_file, "sales/c.csv");
  // Files without such lines record none.
  MemoryOpener clean;
  clean.Add("a.csv", rows);
  StatusOr<Profile> c = engine_.ProfileFiles(clean, clean.files(), drop);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->rejected_lines, 0);
  EXPECT_TRUE(c->rejected.empty());
}

TEST_F(EngineTest, PartitionFormatStringAndDatetimeKeys) {
  MemoryOpener o;
  o.Add("sales/eu/2024/01/31/a.csv", "amount\n1\n2\n");
  o.Add("sales/us/2024/02/01/b.csv", "amount\n3\n");
  ReadRequest r = Req();
  r.options.partition_format = "{region}/{day:yyyy/MM/dd}/*.csv";
  r.options.include_path = true;
  EXPECT_EQ(
      MustSchema(o, r),
      (std::vector<ColumnInfo>{
          {"amount", "BIGINT"}, {"region", "VARCHAR"}, {"day", "TIMESTAMP"}, {"Path", "VARCHAR"}}));
  Table t = MustRead(o, r);
  EXPECT_EQ(Values(t, "region"), (std::vector<std::string>{"eu", "eu", "us"}));
  EXPECT_EQ(Values(t, "day"),
            (std::vector<std::string>{"1706659200000000", "1706659200000000", "1706745600000000"}));
  EXPECT_EQ(Values(t, "Path"),
            (std::vector<std::string>{"sales/eu/2024/01/31/a.csv", "sales/eu/2024/01/31/a.csv",
                                      "sales/us/2024/02/01/b.csv"}));
  StatusOr<Profile> p = engine_.ProfileFiles(o, o.files(), r);
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p->partition_keys, (std::vector<std::string>{"region", "day"}));
  EXPECT_EQ(ProfileOf(*p, "day").min, "2024-01-31 00:00:00");

  r.transforms = {
      Transform{.op = "filter", .expression = "region == 'us' and day >= '2024-02-01'"}};
  EXPECT_EQ(Values(MustRead(o, r), "amount"), (std::vector<std::string>{"3"}));

  MemoryOpener off;
  off.Add("sales/eu/a.csv", "amount\n1\n");
  StatusOr<Table> bad = engine_.Read(off, off.files(), r);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().reason(), Reason::kInvalidInput);
  EXPECT_NE(bad.status().message().find("sales/eu/a.csv"), std::string::npos);
}

TEST_F(EngineTest, HivePartitionsDiscovered) {
  MemoryOpener o;
  o.Add("t/year=2023/region=eu/p.csv", "v\n1\n");
  o.Add("t/year=2024/region=us/p.csv", "v\n2\n");
  o.Add("t/year=2024/q.csv", "v\n3\n");
  Table t = MustRead(o, Req());
  EXPECT_EQ(Names(t), (std::vector<std::string>{"v", "year", "region"}));
  EXPECT_EQ(Values(t, "year"), (std::vector<std::string>{"2023", "2024", "2024"}));
  EXPECT_EQ(Values(t, "region"), (std::vector<std::string>{"eu", "us", "null"}));
}

TEST_F(EngineTest, SummarizeGivesColumnsAndRowsWithoutProfiling) {
  MemoryOpener o;
  o.Add("a.csv", "id,amount,day\n1,2.5,2024-06-01\n2,,2024-06-02\n3,4,2024-06-03\n");
  StatusOr<Summary> s = engine_.Summarize(o, o.files(), Req());
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->row_count, 3);
  EXPECT_EQ(s->schema, (std::vector<ColumnInfo>{{"id", "BIGINT"}, {"amount", "DOUBLE"},
                                                {"day", "DATE"}}));
  // Small files take one streaming scan, larger ones a detection and a count: both agree with
  // the full profile.
  MemoryOpener jsonl;
  jsonl.Add("e.jsonl", "{\"id\": 1, \"kind\": \"refund\"}\n{\"id\": 2, \"kind\": null}\n");
  MemoryOpener big;
  std::string rows = "id,v\n";
  for (int i = 0; i < 500000; ++i) rows += std::to_string(i) + "," + std::to_string(i * 0.5) + "\n";
  big.Add("big.csv", rows);
  for (auto [opener, format] : {std::pair<MemoryOpener*, Format>{&o, Format::kCsv},
                                {&jsonl, Format::kJsonLines}, {&big, Format::kCsv}}) {
    ReadRequest r = Req(format);
    StatusOr<Summary> quick = engine_.Summarize(*opener, opener->files(), r);
    StatusOr<Profile> full = engine_.ProfileFiles(*opener, opener->files(), r);
    ASSERT_TRUE(quick.ok() && full.ok()) << quick.status().ToString();
    EXPECT_EQ(quick->schema, full->schema);
    EXPECT_EQ(quick->row_count, full->row_count);
  }
  // Asked-for types and added columns come out as the reader gives them.
  ReadRequest typed = Req();
  typed.options.set_column_types = {{"id", "string"}};
  typed.options.include_path = true;
  s = engine_.Summarize(o, o.files(), typed);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->schema.front(), (ColumnInfo{"id", "VARCHAR"}));
  EXPECT_EQ(s->schema.back().name, "Path");
  MemoryOpener hive;
  hive.Add("t/region=eu/p.csv", "v\n1\n2\n");
  s = engine_.Summarize(hive, hive.files(), Req());
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->row_count, 2);
  EXPECT_EQ(s->schema.back().name, "region");
}

class TransformTest : public EngineTest {
 protected:
  void SetUp() override {
    std::string csv = "id,grp\n";
    for (int i = 0; i < 1000; ++i) csv += std::to_string(i) + "," + (i % 2 ? "odd" : "even") + "\n";
    o_.Add("n.csv", csv);
  }
  std::vector<std::string> Ids(std::vector<Transform> ts) {
    ReadRequest r = Req();
    r.transforms = std::move(ts);
    return Values(MustRead(o_, r), "id");
  }
  MemoryOpener o_;
};

TEST_F(TransformTest, TakeSkipLimit) {
  EXPECT_EQ(Ids({{.op = "skip", .count = 10}, {.op = "take", .count = 3}}),
            (std::vector<std::string>{"10", "11", "12"}));
  EXPECT_EQ(Ids({{.op = "take", .count = 0}}).size(), 0u);
  ReadRequest r = Req();
  r.limit = 2;
  EXPECT_EQ(Values(MustRead(o_, r), "id"), (std::vector<std::string>{"0", "1"}));
}

TEST_F(TransformTest, TakeSampleIsRepeatable) {
  std::vector<std::string> a = Ids({{.op = "take_sample", .probability = 0.3, .seed = 42}});
  EXPECT_EQ(a, Ids({{.op = "take_sample", .probability = 0.3, .seed = 42}}));
  EXPECT_GT(a.size(), 200u);
  EXPECT_LT(a.size(), 400u);
  EXPECT_NE(a, Ids({{.op = "take_sample", .probability = 0.3, .seed = 43}}));
  EXPECT_EQ(Ids({{.op = "take_sample", .probability = 1.0}}).size(), 1000u);
}

TEST_F(TransformTest, RandomSplitPartsAreComplementary) {
  std::vector<std::string> a =
      Ids({{.op = "random_split", .seed = 5, .percentage = 0.7, .part = 0}});
  std::vector<std::string> b =
      Ids({{.op = "random_split", .seed = 5, .percentage = 0.7, .part = 1}});
  EXPECT_EQ(a.size() + b.size(), 1000u);
  std::set<std::string> all(a.begin(), a.end());
  for (const std::string& id : b) EXPECT_TRUE(all.insert(id).second) << id;
  EXPECT_EQ(all.size(), 1000u);
  EXPECT_GT(a.size(), 600u);
  EXPECT_LT(a.size(), 800u);
}

TEST_F(TransformTest, KeepDropColumns) {
  ReadRequest r = Req();
  r.transforms = {{.op = "keep_columns", .columns = {"grp"}}};
  EXPECT_EQ(Names(MustRead(o_, r)), (std::vector<std::string>{"grp"}));
  r.transforms = {{.op = "drop_columns", .columns = {"grp"}}};
  EXPECT_EQ(Names(MustRead(o_, r)), (std::vector<std::string>{"id"}));
  r.transforms = {{.op = "drop_columns", .columns = {"grp"}},
                  {.op = "keep_columns", .columns = {"grp"}}};
  StatusOr<Table> bad = engine_.Read(o_, o_.files(), r);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().reason(), Reason::kInvalidInput);
  EXPECT_NE(bad.status().message().find("'grp'"), std::string::npos);
}

TEST_F(TransformTest, Filter) {
  EXPECT_EQ(Ids({{.op = "filter", .expression = "id < 6 and not grp == 'even'"}}),
            (std::vector<std::string>{"1", "3", "5"}));
  EXPECT_EQ(Ids({{.op = "filter", .expression = "(id == 1 or id == 998) and grp != null"}}),
            (std::vector<std::string>{"1", "998"}));
  // Injection attempts are plain string values.
  EXPECT_TRUE(Ids({{.op = "filter", .expression = "grp == 'x\\') OR (1=1'"}}).empty());
  EXPECT_TRUE(Ids({{.op = "filter", .expression = "grp == \"odd'; DROP TABLE x; --\""}}).empty());
  ReadRequest r = Req();
  r.transforms = {{.op = "filter", .expression = "`id\" > 0 OR \"id` > 1"}};
  StatusOr<Table> bad = engine_.Read(o_, o_.files(), r);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().reason(), Reason::kInvalidInput);
  EXPECT_NE(bad.status().message().find("unknown column"), std::string::npos);
  r.transforms = {{.op = "filter", .expression = "id >> 3"}};
  bad = engine_.Read(o_, o_.files(), r);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("position"), std::string::npos);
}

TEST_F(TransformTest, ProfileInOneScan) {
  ReadRequest r = Req();
  r.transforms = {{.op = "filter", .expression = "id >= 10"}};
  StatusOr<Profile> p = engine_.ProfileFiles(o_, o_.files(), r);
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p->row_count, 990);
  EXPECT_EQ(p->schema, (std::vector<ColumnInfo>{{"id", "BIGINT"}, {"grp", "VARCHAR"}}));
  EXPECT_EQ(ProfileOf(*p, "id").min, "10");
  EXPECT_EQ(ProfileOf(*p, "id").max, "999");
  EXPECT_EQ(ProfileOf(*p, "id").nulls, 0);
  EXPECT_NEAR(ProfileOf(*p, "id").distinct, 990, 250);  // approximate, at most the count
  EXPECT_LE(ProfileOf(*p, "id").distinct, 990);
  EXPECT_EQ(ProfileOf(*p, "grp").distinct, 2);
  EXPECT_EQ(ProfileOf(*p, "grp").min, "even");
}

// Parquet written by DuckDB itself (Engine::Write runs COPY ... TO), read back through the opener.
TEST_F(EngineTest, ParquetRoundTripAndFooterProfile) {
  MemoryOpener csv;
  std::string text = "id,name,score,day\n";
  for (int i = 0; i < 5000; ++i) {
    text += std::to_string(i) + "," + (i % 7 ? "n" + std::to_string(i % 50) : "") + "," +
            std::to_string(i * 0.5) + ",2024-01-" + (i % 2 ? "01" : "02") + "\n";
  }
  csv.Add("in.csv", text);
  TempDir dir;
  StatusOr<std::vector<std::string>> written =
      engine_.Write(csv, csv.files(), Req(), Format::kParquet, dir.path());
  ASSERT_TRUE(written.ok()) << written.status().message();
  ASSERT_EQ(written->size(), 1u);

  MemoryOpener pq;
  const std::string bytes = Slurp(dir.path() + "/" + (*written)[0]);
  pq.Add("lake/p1.parquet", bytes);
  pq.Add("lake/p2.parquet", bytes);
  std::vector<ColumnInfo> schema = MustSchema(pq, Req(Format::kParquet));
  EXPECT_EQ(schema,
            (std::vector<ColumnInfo>{
                {"id", "BIGINT"}, {"name", "VARCHAR"}, {"score", "DOUBLE"}, {"day", "DATE"}}));
  EXPECT_LT(pq.bytes_read.load(), static_cast<int64_t>(bytes.size()));  // the footer, not the file

  Table t = MustRead(pq, Req(Format::kParquet));
  EXPECT_EQ(t.rows, 10000);
  EXPECT_EQ(Values(t, "name")[0], "null");
  EXPECT_EQ(Values(t, "name")[1], "n1");

  StatusOr<Profile> p = engine_.ProfileFiles(pq, pq.files(), Req(Format::kParquet));
  ASSERT_TRUE(p.ok()) << p.status().message();
  // The same numbers as a full scan of the CSV (twice the rows).
  ReadRequest csv_req = Req();
  csv_req.options.set_column_types = {};
  StatusOr<Profile> scan = engine_.ProfileFiles(csv, csv.files(), csv_req);
  ASSERT_TRUE(scan.ok()) << scan.status().message();
  EXPECT_EQ(p->row_count, 10000);
  for (const char* col : {"id", "name", "score", "day"}) {
    EXPECT_EQ(ProfileOf(*p, col).nulls, 2 * ProfileOf(*scan, col).nulls) << col;
    EXPECT_EQ(ProfileOf(*p, col).min, ProfileOf(*scan, col).min) << col;
    EXPECT_EQ(ProfileOf(*p, col).max, ProfileOf(*scan, col).max) << col;
    EXPECT_NEAR(ProfileOf(*p, col).distinct, ProfileOf(*scan, col).distinct,
                0.2 * ProfileOf(*scan, col).distinct + 1)
        << col;
  }
  EXPECT_EQ(ProfileOf(*p, "name").nulls, 2 * 715);
  EXPECT_EQ(ProfileOf(*p, "day").max, "2024-01-02");

  // Through the local-disk opener too.
  LocalFileOpener local(dir.path());
  std::vector<SourceFile> files = {{(*written)[0], "out/" + (*written)[0], -1}};
  ReadRequest r = Req(Format::kParquet);
  r.transforms = {{.op = "filter", .expression = "score > 2000"},
                  {.op = "keep_columns", .columns = {"id"}}};
  Table f = MustRead(local, files, r);
  EXPECT_EQ(f.rows, 999);
  EXPECT_EQ(Values(f, "id")[0], "4001");
}

TEST_F(EngineTest, WriteCsvWithSeparator) {
  MemoryOpener o;
  o.Add("a.csv", "id,name\n1,ann\n2,bob\n");
  TempDir dir;
  ReadRequest r = Req();
  r.transforms = {{.op = "skip", .count = 1}};
  StatusOr<std::vector<std::string>> w =
      engine_.Write(o, o.files(), r, Format::kCsv, dir.path(), "|");
  ASSERT_TRUE(w.ok()) << w.status().message();
  EXPECT_EQ(Slurp(dir.path() + "/" + (*w)[0]), "id|name\n2|bob\n");
}

// Under ASan each file's read buffers go through the sanitizer's allocator (about 60 ms a file):
// fewer files there, the same code paths.
#if defined(__SANITIZE_ADDRESS__)
constexpr int kManyFiles = 300;
#else
constexpr int kManyFiles = 2000;
#endif

TEST_F(EngineTest, TwoThousandFilesInOrder) {
  MemoryOpener o;
  for (int i = 0; i < kManyFiles; ++i) {
    o.Add("many/region=r" + std::to_string(i % 3) + "/f" + std::to_string(i) + ".csv",
          "id,v\n" + std::to_string(i) + "," + std::to_string(i * 2) + "\n");
  }
  ReadRequest r = Req();
  r.options.include_path = true;
  Table t = MustRead(o, r);
  ASSERT_EQ(t.rows, kManyFiles);
  std::vector<std::string> ids = Values(t, "id");
  for (int i = 0; i < kManyFiles; ++i) ASSERT_EQ(ids[i], std::to_string(i));
  const int last = kManyFiles - 1;
  EXPECT_EQ(Values(t, "region")[last], "r" + std::to_string(last % 3));
  EXPECT_EQ(Values(t, "Path")[last],
            "many/region=r" + std::to_string(last % 3) + "/f" + std::to_string(last) + ".csv");

  // Splits stay complementary over many files and threads.
  r.transforms = {{.op = "random_split", .seed = 9, .percentage = 0.5, .part = 0}};
  std::vector<std::string> a = Values(MustRead(o, r), "id");
  EXPECT_EQ(a, Values(MustRead(o, r), "id"));
  r.transforms[0].part = 1;
  std::vector<std::string> b = Values(MustRead(o, r), "id");
  std::set<std::string> all(a.begin(), a.end());
  all.insert(b.begin(), b.end());
  EXPECT_EQ(a.size() + b.size(), static_cast<size_t>(kManyFiles));
  EXPECT_EQ(all.size(), static_cast<size_t>(kManyFiles));
}

// Strings come as a dictionary while few are distinct, and switch to one per row when most are;
// a result this large is also copied out by several threads.
TEST_F(EngineTest, StringColumnsDictionaryOrPlain) {
  constexpr int kRows = 300000;
  std::string csv = "id,cat,uniq,n\n";
  for (int i = 0; i < kRows; ++i) {
    csv += std::to_string(i) + "," + (i % 7 == 3 ? "" : "c" + std::to_string(i % 5)) + ",u" +
           std::to_string(i) + "," + (i % 11 == 0 ? "" : std::to_string(i % 13)) + "\n";
  }
  MemoryOpener o;
  o.Add("big.csv", std::move(csv));
  Table t = MustRead(o, Req());
  ASSERT_EQ(t.rows, kRows);
  const Column& cat = t.columns[1];
  const Column& uniq = t.columns[2];
  EXPECT_EQ(cat.type, Column::Type::kString);
  EXPECT_FALSE(cat.codes.empty());
  EXPECT_EQ(cat.dict.size(), 6u);  // "" and c0..c4
  EXPECT_TRUE(uniq.codes.empty());
  EXPECT_EQ(uniq.str.size(), static_cast<size_t>(kRows));
  EXPECT_TRUE(uniq.valid.empty());
  std::vector<std::string> ids = Values(t, "id"), cats = Values(t, "cat"), us = Values(t, "uniq"),
                           ns = Values(t, "n");
  for (int i = 0; i < kRows; ++i) {
    ASSERT_EQ(ids[i], std::to_string(i));
    ASSERT_EQ(cats[i], i % 7 == 3 ? "null" : "c" + std::to_string(i % 5)) << i;
    ASSERT_EQ(us[i], "u" + std::to_string(i)) << i;
    ASSERT_EQ(ns[i], i % 11 == 0 ? "null" : std::to_string(i % 13)) << i;
  }
}

TEST_F(EngineTest, ConcurrentCallsDoNotMix) {
  MemoryOpener a, b;
  a.Add("same.csv", "x\n1\n2\n");
  b.Add("same.csv", "x\n7\n");
  std::vector<std::thread> threads;
  std::atomic<int> bad{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      for (int k = 0; k < 5; ++k) {
        MemoryOpener& o = i % 2 ? b : a;
        StatusOr<Table> t = engine_.Read(o, o.files(), Req());
        if (!t.ok() || t->rows != (i % 2 ? 1 : 2)) ++bad;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(bad.load(), 0);
}

TEST_F(EngineTest, RequestErrors) {
  MemoryOpener o;
  o.Add("a.jsonl", "{}\n");
  EXPECT_FALSE(engine_.Read(o, {}, Req()).ok());
  ReadRequest r = Req(Format::kJsonLines);
  r.options.encoding = "latin1";
  EXPECT_EQ(engine_.Read(o, o.files(), r).status().reason(), Reason::kInvalidInput);
}

}  // namespace
}  // namespace tarn::tabular
