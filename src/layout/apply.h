// Reading and changing the lake a layout governs (layout/lake_layout.h), over tarnd's directory
// API (groups, role assignments) and DFS (filesystems, folders, ACLs), as the caller: an account
// Owner, signed in or with the key.
#pragma once

#include <functional>
#include <vector>

#include "client/catalog_client.h"
#include "client/lake_client.h"
#include "layout/lake_layout.h"

namespace tarn::layout {

struct Connections {
  client::CatalogClient* directory;  // /identity
  client::LakeClient* lake;
  std::string account;
};

// What the layout governs, as it is now.
StatusOr<Live> ReadLive(const Layout& layout, const Connections& c);

// Makes the changes of Diff, then reads the lake again and repeats (a group created in the
// first pass gets its roles and ACL entries in the second), until nothing is left; returns
// every change made, each also passed to `made` as it is done. The first failing change stops
// it, with what was done so far reported through `made`.
StatusOr<std::vector<Change>> Apply(const Layout& layout, const Connections& c,
                                    const std::function<void(const Change&)>& made);

}  // namespace tarn::layout
