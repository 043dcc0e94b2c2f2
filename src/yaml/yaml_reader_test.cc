#include "yaml/yaml_reader.h"

#include <gtest/gtest.h>

namespace tarn::yaml {
namespace {

const std::vector<std::string> kKnown = {"name", "size"};

YAML::Node Parse(const std::string& text) {
  Reader r("f.yaml");
  auto n = Load(text, r);
  EXPECT_TRUE(n.ok()) << n.status().ToString();
  return n.ok() ? *n : YAML::Node();
}

std::string Message(const Status& s) {
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  return s.message();
}

TEST(ReaderTest, AtNamesTheFileLineAndColumn) {
  Reader r("f.yaml");
  YAML::Mark m = YAML::Mark::null_mark();
  m.line = 2;
  m.column = 4;
  EXPECT_EQ(Message(r.At(m, "wrong")), "f.yaml:3:5: wrong");
  EXPECT_EQ(Message(r.At(YAML::Mark::null_mark(), "wrong")), "f.yaml: wrong");
  EXPECT_EQ(r.file(), "f.yaml");
}

TEST(ReaderTest, MappingAcceptsKnownKeys) {
  Reader r("f.yaml");
  EXPECT_TRUE(r.Mapping(Parse("name: a\nsize: 3\n"), "the thing", kKnown).ok());
  EXPECT_TRUE(r.Mapping(Parse("{}"), "the thing", kKnown).ok());
}

TEST(ReaderTest, MappingRefusals) {
  Reader r("f.yaml");
  const struct {
    const char* text;
    const char* message;
  } kCases[] = {
      {"name: a\nsiez: 3\n", "f.yaml:2:1: unknown key 'siez' in the thing (known: name, size)"},
      {"name: a\nname: b\n", "f.yaml:2:1: 'name' is given twice in the thing"},
      {"? [a]\n: 1\n", "f.yaml:1:3: a key in the thing must be text"},
      {"- a\n- b\n", "f.yaml:1:1: the thing must be a mapping"},
      {"x\n", "f.yaml:1:1: the thing must be a mapping"},
  };
  for (const auto& c : kCases) {
    EXPECT_EQ(Message(r.Mapping(Parse(c.text), "the thing", kKnown)), c.message) << c.text;
  }
  EXPECT_EQ(Message(r.Mapping(Parse("x: [1, 2]\n")["x"], "x", kKnown)),
            "f.yaml:1:4: x must be a mapping");
}

TEST(ReaderTest, Text) {
  Reader r("f.yaml");
  const YAML::Node n = Parse("a: hello\nb: ''\nc: [1]\n");
  auto a = r.Text(n["a"], "a");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(*a, "hello");
  EXPECT_EQ(Message(r.Text(n["b"], "b").status()), "f.yaml:2:4: b must be a non-empty string");
  EXPECT_EQ(Message(r.Text(n["c"], "c").status()), "f.yaml:3:4: c must be a non-empty string");
}

TEST(ReaderTest, Bool) {
  Reader r("f.yaml");
  const YAML::Node n = Parse("a: true\nb: false\nc: maybe\nd: {x: 1}\n");
  auto a = r.Bool(n["a"], "a");
  auto b = r.Bool(n["b"], "b");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(*a);
  EXPECT_FALSE(*b);
  EXPECT_EQ(Message(r.Bool(n["c"], "c").status()), "f.yaml:3:4: c must be true or false");
  EXPECT_EQ(Message(r.Bool(n["d"], "d").status()), "f.yaml:4:4: d must be true or false");
}

TEST(LoadTest, RefusesBadYamlWithItsPlace) {
  Reader r("f.yaml");
  auto n = Load("a: 1\nb: [\n", r);
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(n.status().message().rfind("f.yaml:3:1: not valid YAML: ", 0), 0u)
      << n.status().message();
  n = Load("a: 1\n  b: 2\n", r);
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().message().rfind("f.yaml:2:4: not valid YAML: ", 0), 0u)
      << n.status().message();
}

TEST(LoadTest, EmptyTextIsANullDocument) {
  Reader r("f.yaml");
  auto n = Load("", r);
  ASSERT_TRUE(n.ok());
  EXPECT_TRUE(n->IsNull());
}

// A derived reader's At is the one every check reports through.
class Quiet : public Reader {
 public:
  Quiet() : Reader("unused") {}
  Status At(const YAML::Mark& m, const std::string& what) const override {
    return Status(Code::kInvalidArgument, what);
  }
};

TEST(ReaderTest, ChecksReportThroughADerivedAt) {
  Quiet q;
  EXPECT_EQ(Message(q.Mapping(Parse("siez: 1\n"), "it", kKnown)),
            "unknown key 'siez' in it (known: name, size)");
  EXPECT_EQ(Message(q.Text(Parse("a: [1]\n")["a"], "a").status()), "a must be a non-empty string");
  EXPECT_EQ(Message(Load("a: [\n", q).status()).rfind("not valid YAML: ", 0), 0u);
}

}  // namespace
}  // namespace tarn::yaml
