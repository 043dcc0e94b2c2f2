// What the translation units of tarn._native share: the exception every failure becomes, and
// the helpers that turn a Status into it.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>

#include "client/catalog_client.h"
#include "common/status.h"

namespace tarn::python {

// Raised to Python as tarn._native.CatalogError(server_code, message, status_name).
struct CatalogException : std::runtime_error {
  CatalogException(std::string server_code, std::string message, std::string status)
      : std::runtime_error(message), server_code(std::move(server_code)),
        status(std::move(status)) {}
  std::string server_code, status;
};

[[noreturn]] inline void Raise(const Status& s) {
  throw CatalogException(client::ServerErrorCode(s), s.message(), CodeName(s.code()));
}

template <typename T>
T Take(StatusOr<T> r) {
  if (!r.ok()) Raise(r.status());
  return std::move(r).value();
}

inline void Check(const Status& s) {
  if (!s.ok()) Raise(s);
}

}  // namespace tarn::python
