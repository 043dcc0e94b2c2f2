// What the tarn CLI and the Python SDK decide alike, written once: where config.json is, and
// when the development key may be used.
//
// - FindConfig looks, from `start` (a file is taken as it is) upwards, in each directory's
//   <name>, .azureml/<name> and aml_config/<name>, as azureml's Workspace.from_config does.
// - DevelopmentKeyFor gives the emulator's published key only for a loopback endpoint
//   (127.0.0.0/8, ::1, localhost): tarnd serves that account only there.
#pragma once

#include <optional>
#include <string>

namespace tarn::client {

std::optional<std::string> FindConfig(const std::string& start,
                                      const std::string& name = "config.json");
std::optional<std::string> DevelopmentKeyFor(const std::string& endpoint);

}  // namespace tarn::client
