// The readable text form of a plan: one line per node with op, output shape and dtype, inputs, and the
// weight it reads (name, dtype, shape).
#pragma once

#include <string>

#include "compiler/ir.h"

namespace strata::ir {

std::string PrintPlan(const Plan& plan);

}  // namespace strata::ir
