// A NamespaceStore decorator that keeps metadata commits working on a full disk: before each
// write, the DiskGuard releases its reserve if the filesystem is critically full (a write's fn
// is never run twice, so nothing is retried here). Reads pass through. Neither store nor guard
// is owned; both must outlive this one.
#pragma once

#include "store/meta/namespace_store.h"
#include "store/space/disk_guard.h"

namespace tarn::space {

class ReservingNamespaceStore : public meta::NamespaceStore {
 public:
  ReservingNamespaceStore(meta::NamespaceStore* inner, DiskGuard* guard)
      : inner_(inner), guard_(guard) {}

  Status Write(const std::function<Status(meta::WriteTxn&)>& fn) override;
  Status Read(const std::function<Status(meta::ReadTxn&)>& fn) override {
    return inner_->Read(fn);
  }

 private:
  meta::NamespaceStore* inner_;
  DiskGuard* guard_;
};

}  // namespace tarn::space
