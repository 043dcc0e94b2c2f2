// Pieces shared by the lake service's translation units. Not part of the public interface.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "lake/lake_service.h"
#include "store/meta/namespace_store.h"

namespace tarn::lake::internal {

std::string NewEtag();

// Splits a normalised path into its components ("" -> none).
std::vector<std::string> Components(const std::string& path);
std::string JoinPath(const std::string& dir, const std::string& name);

StatusOr<Filesystem> RequireFilesystem(meta::ReadTxn& t, const std::string& account,
                                       const std::string& name);
// Walks from the root; nullopt if any component is missing (or a file is in the way).
StatusOr<std::optional<Node>> Resolve(meta::ReadTxn& t, const Filesystem& fs,
                                      const std::string& path);
// Resolve, with a missing path as Reason::kPathNotFound.
StatusOr<Node> RequirePath(meta::ReadTxn& t, const Filesystem& fs, const std::string& path);

}  // namespace tarn::lake::internal
