// GET and HEAD /studio/...: Tarn Studio's files, to anyone (they hold no data; every call the
// studio makes afterwards is an API request with the person's bearer token).
#pragma once

#include "protocol/context.h"

namespace tarn::protocol::studio_ops {

Status ServeStudio(Ctx& c);

}  // namespace tarn::protocol::studio_ops
