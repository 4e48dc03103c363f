// Small vocabulary shared by the model layer (architectures describe their graphs with it), the IR and the
// kernels: how RoPE pairs dimensions, which activation a gated FFN applies, and how a projection splits across
// tensor-parallel ranks.
#pragma once

#include <cstdint>

namespace strata {

// Which dimensions of a head rotate together (llama.cpp's rope types).
enum class RopeMode : uint8_t {
  kNorm,  // adjacent pairs (x[2i], x[2i+1]): llama
  kNeox,  // halves (x[i], x[i + rope_dim/2]): qwen, gemma, phi3
};

enum class Activation : uint8_t {
  kSilu,      // x * sigmoid(x)
  kGeluTanh,  // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
  kSigmoid,   // 1 / (1 + exp(-x))
};
const char* ActivationName(Activation a);  // "silu", "gelu_tanh", "sigmoid"

// How a projection's weight divides over tensor-parallel ranks. The architecture says it for each matmul it
// emits, so the split pass follows the model's meaning rather than weight names.
enum class TpSplit : uint8_t {
  kReplicated,  // every rank computes the whole product
  kQHeads,      // output features by query heads (column parallel)
  kKvHeads,     // output features by KV heads
  kColumns,     // output features split evenly (FFN gate / up)
  kRowsReduce,  // input features split (they come split), partial sums all-reduced (attention out, FFN down)
  kVocab,       // output head: vocabulary rows split, all-gathered
};
const char* TpSplitName(TpSplit s);

}  // namespace strata
