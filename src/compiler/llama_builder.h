// Builds the plan of a Llama model's forward pass from its config and weights: embedding, then per layer
// RMSNorm → Q/K/V → RoPE → attention (KV cache) → output projection + residual, RMSNorm → SwiGLU FFN +
// residual; final RMSNorm and output head.
#pragma once

#include "compiler/ir.h"
#include "model/model.h"

namespace strata::ir {

Result<Plan> BuildLlamaPlan(const Model& model);

}  // namespace strata::ir
