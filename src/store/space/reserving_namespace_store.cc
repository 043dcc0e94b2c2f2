#include "store/space/reserving_namespace_store.h"

namespace tarn::space {

Status ReservingNamespaceStore::Write(const std::function<Status(meta::WriteTxn&)>& fn) {
  guard_->BeforeMetadataWrite();
  return inner_->Write(fn);
}

}  // namespace tarn::space
