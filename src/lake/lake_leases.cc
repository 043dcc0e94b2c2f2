// Leases on filesystems and paths: acquire, renew, change, release and break, with the
// states Azure gives them (lease_duration infinite or 15-60 s, breaking, broken, expired).
#include "lake/lake_service.h"

#include "common/crypto.h"
#include "common/time_util.h"
#include "lake/lake_internal.h"

namespace tarn::lake {

using meta::WriteTxn;
using State = meta::Lease::State;
using namespace internal;  // NOLINT: this file is the implementation of internal's users

LeaseView ViewLease(const meta::Lease& lease, int64_t now_ms) {
  LeaseView v{lease.state, lease.duration_s < 0};
  if (lease.state == State::kLeased && lease.duration_s >= 0 && now_ms >= lease.expires_ms) {
    v.state = State::kExpired;
  } else if (lease.state == State::kBreaking && now_ms >= lease.break_ms) {
    v.state = State::kBroken;
  }
  return v;
}

namespace {

StatusOr<LeaseResult> ApplyLease(meta::Lease* lease, const LeaseRequest& req, int64_t now_ms) {
  using A = LeaseRequest::Action;
  LeaseView v = ViewLease(*lease, now_ms);
  LeaseResult r;
  auto matches = [&](const std::optional<std::string>& id) {
    return id && EqualsLeaseId(*id, lease->id);
  };
  switch (req.action) {
    case A::kAcquire: {
      if (req.duration_s != -1 && (req.duration_s < 15 || req.duration_s > 60)) {
        return Error(Reason::kInvalidHeaderValue,
                     "The lease duration must be -1 or between 15 and 60 seconds.");
      }
      std::string id = req.proposed_id ? *req.proposed_id : NewUuid();
      if (v.state == State::kLeased && !EqualsLeaseId(id, lease->id)) {
        return Error(Reason::kLeaseAlreadyPresent, "There is already a lease present.");
      }
      if (v.state == State::kBreaking) {
        return Error(Reason::kLeaseIsBreakingAndCannotBeAcquired,
                     "There is already a breaking lease present.");
      }
      lease->state = State::kLeased;
      lease->id = id;
      lease->duration_s = req.duration_s;
      lease->expires_ms = req.duration_s < 0 ? 0 : now_ms + req.duration_s * 1000LL;
      lease->break_ms = 0;
      r.lease_id = id;
      return r;
    }
    case A::kRenew: {
      if (v.state == State::kAvailable) {
        return Error(Reason::kLeaseNotPresentWithLeaseOperation,
                     "There is currently no lease on the resource.");
      }
      if (!matches(req.lease_id)) {
        return Error(Reason::kLeaseIdMismatchWithLeaseOperation,
                     "The lease ID specified did not match the lease ID for the resource.");
      }
      if (v.state == State::kBroken || v.state == State::kBreaking) {
        return Error(Reason::kLeaseIsBrokenAndCannotBeRenewed,
                     "The lease has been broken and cannot be renewed.");
      }
      lease->state = State::kLeased;
      lease->expires_ms = lease->duration_s < 0 ? 0 : now_ms + lease->duration_s * 1000LL;
      r.lease_id = lease->id;
      return r;
    }
    case A::kChange: {
      if (!req.proposed_id) {
        return Error(Reason::kMissingRequiredHeader, "x-ms-proposed-lease-id is required.");
      }
      if (v.state != State::kLeased && v.state != State::kBreaking) {
        return Error(Reason::kLeaseNotPresentWithLeaseOperation,
                     "There is currently no lease on the resource.");
      }
      if (v.state == State::kBreaking) {
        return Error(Reason::kLeaseIsBreakingAndCannotBeChanged,
                     "The lease is breaking and cannot be changed.");
      }
      if (!matches(req.lease_id) && !matches(req.proposed_id)) {
        return Error(Reason::kLeaseIdMismatchWithLeaseOperation,
                     "The lease ID specified did not match the lease ID for the resource.");
      }
      lease->id = *req.proposed_id;
      r.lease_id = lease->id;
      return r;
    }
    case A::kRelease: {
      if (v.state == State::kAvailable) {
        return Error(Reason::kLeaseNotPresentWithLeaseOperation,
                     "There is currently no lease on the resource.");
      }
      if (!matches(req.lease_id)) {
        return Error(Reason::kLeaseIdMismatchWithLeaseOperation,
                     "The lease ID specified did not match the lease ID for the resource.");
      }
      *lease = meta::Lease{};
      return r;
    }
    case A::kBreak: {
      if (v.state == State::kAvailable || v.state == State::kExpired) {
        if (v.state == State::kExpired) {
          *lease = meta::Lease{};
        }
        return Error(Reason::kLeaseNotPresentWithLeaseOperation,
                     "There is currently no lease on the resource.");
      }
      if (v.state == State::kBroken) {
        r.lease_time_s = 0;
        return r;
      }
      int64_t remaining_ms =
          v.state == State::kBreaking
              ? lease->break_ms - now_ms
              : (lease->duration_s < 0 ? 0 : lease->expires_ms - now_ms);
      int64_t period_ms = remaining_ms;
      if (req.break_period_s) {
        if (*req.break_period_s < 0 || *req.break_period_s > 60) {
          return Error(Reason::kInvalidHeaderValue,
                       "The break period must be between 0 and 60 seconds.");
        }
        period_ms = std::min<int64_t>(remaining_ms < 0 || lease->duration_s < 0
                                          ? *req.break_period_s * 1000LL
                                          : remaining_ms,
                                      *req.break_period_s * 1000LL);
      }
      if (period_ms <= 0) {
        lease->state = State::kBroken;
        lease->break_ms = now_ms;
      } else {
        lease->state = State::kBreaking;
        lease->break_ms = now_ms + period_ms;
      }
      r.lease_time_s = static_cast<int32_t>((std::max<int64_t>(period_ms, 0) + 999) / 1000);
      return r;
    }
  }
  return InternalError("unknown lease action");
}

}  // namespace

StatusOr<LeaseResult> LakeService::LeaseFilesystem(const std::string& account,
                                                   const std::string& name,
                                                   const LeaseRequest& req,
                                                   const Conditions& cond) {
  LeaseResult r;
  TARN_RETURN_IF_ERROR(store_->Write([&](WriteTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(Filesystem fs, RequireFilesystem(t, account, name));
    TARN_RETURN_IF_ERROR(CheckConditions(cond, &fs.etag, fs.modified_us, false));
    TARN_ASSIGN_OR_RETURN(r, ApplyLease(&fs.lease, req, NowMillis()));
    TARN_RETURN_IF_ERROR(t.UpdateFilesystem(fs));
    r.etag = fs.etag;
    r.modified_us = fs.modified_us;
    return Status::Ok();
  }));
  return r;
}

StatusOr<LeaseResult> LakeService::LeasePath(const std::string& account,
                                             const std::string& fs_name, const std::string& path,
                                             const LeaseRequest& req, const Conditions& cond) {
  LeaseResult r;
  TARN_RETURN_IF_ERROR(store_->Write([&](WriteTxn& t) -> Status {
    TARN_ASSIGN_OR_RETURN(Filesystem fs, RequireFilesystem(t, account, fs_name));
    TARN_ASSIGN_OR_RETURN(std::optional<Node> n, RequirePath(t, fs, path));
    TARN_RETURN_IF_ERROR(CheckNodeConditions(cond, n, false));
    TARN_ASSIGN_OR_RETURN(r, ApplyLease(&n->lease, req, NowMillis()));
    TARN_RETURN_IF_ERROR(t.UpdateNode(*n));
    r.etag = n->etag;
    r.modified_us = n->modified_us;
    return Status::Ok();
  }));
  return r;
}

}  // namespace tarn::lake
