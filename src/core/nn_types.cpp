#include "core/nn_types.h"

namespace strata {

const char* ActivationName(Activation a) {
  switch (a) {
    case Activation::kSilu: return "silu";
    case Activation::kGeluTanh: return "gelu_tanh";
    case Activation::kSigmoid: return "sigmoid";
  }
  return "?";
}

const char* TpSplitName(TpSplit s) {
  switch (s) {
    case TpSplit::kReplicated: return "replicated";
    case TpSplit::kQHeads: return "q_heads";
    case TpSplit::kKvHeads: return "kv_heads";
    case TpSplit::kColumns: return "columns";
    case TpSplit::kRowsReduce: return "rows_reduce";
    case TpSplit::kVocab: return "vocab";
  }
  return "?";
}

}  // namespace strata
