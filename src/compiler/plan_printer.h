// The readable forms of a plan: text, one line per node with its label (fused ops by name), inputs, output
// shape and dtype, placement and the weights it reads; and JSON with the same content for tools.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "compiler/ir.h"

namespace strata::ir {

std::string PrintPlan(const Plan& plan);
nlohmann::ordered_json PlanToJson(const Plan& plan);

}  // namespace strata::ir
