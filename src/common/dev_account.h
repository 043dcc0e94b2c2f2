// The development account every Azure emulator serves, with its published key. tarnd serves it
// only on loopback; Tarn's clients fall back to it only for loopback endpoints.
#pragma once

namespace tarn {

inline constexpr char kDevAccount[] = "devstoreaccount1";
inline constexpr char kDevKey[] =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

}  // namespace tarn
