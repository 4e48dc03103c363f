#include "server/api_error.h"

namespace strata {

nlohmann::json ApiError::ToJson() const {
  nlohmann::json p = param.empty() ? nlohmann::json(nullptr) : nlohmann::json(param);
  return {{"error", {{"message", message}, {"type", type}, {"param", p}, {"code", status}}}};
}

}  // namespace strata
