// The NamespaceStore contract suite: every implementation passes the same tests.
//
// The tests live in namespace_store_contract_test.cc, which also instantiates them for SQLite.
// To run them against another implementation, instantiate the suite in that implementation's
// test file (any *_test.cc below src/store/meta joins the tarn_meta_test binary):
//
//   INSTANTIATE_TEST_SUITE_P(
//       Postgres, NamespaceStoreContractTest,
//       ::testing::Values(NamespaceStoreFactory{"postgres", [](const std::string& location) {
//         return OpenPostgresStoreFor(location);  // StatusOr<std::unique_ptr<NamespaceStore>>
//       }}),
//       NamespaceStoreFactoryName);
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "common/status.h"
#include "store/meta/namespace_store.h"

namespace tarn::meta {

struct NamespaceStoreFactory {
  std::string name;  // becomes the test-name suffix: letters, digits and '_' only
  // Opens the store whose state lives at `location`, creating it when empty. Each test gets a
  // fresh, empty temporary directory as its location; a store that keeps its state elsewhere
  // (a database server) derives a fresh database or schema name from it. Opening the same
  // location again, after the previous store object is destroyed, must show every commit.
  std::function<StatusOr<std::unique_ptr<NamespaceStore>>(const std::string& location)> open;
};

inline void PrintTo(const NamespaceStoreFactory& f, std::ostream* os) { *os << f.name; }

inline std::string NamespaceStoreFactoryName(
    const ::testing::TestParamInfo<NamespaceStoreFactory>& info) {
  return info.param.name;
}

class NamespaceStoreContractTest : public ::testing::TestWithParam<NamespaceStoreFactory> {
 protected:
  void SetUp() override;
  void TearDown() override;

  NamespaceStore& store() { return *store_; }
  // Destroys the store and opens it again at the same location.
  void Reopen();

  std::string location_;
  std::unique_ptr<NamespaceStore> store_;
};

}  // namespace tarn::meta
