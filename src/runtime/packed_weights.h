// One packed copy per weight in the process: every executor of the same model (a benchmark's executor and its
// engine, a server's engine and a draft, a Twin) shares it, keyed by where the weight's bytes are. And, when the
// process asks for it (`strata run`, `serve`, `bench`), the file's own bytes of a packed weight are given back
// to the OS once packed, so the model is held once: the repacked weights replace the file's bytes in memory
// rather than sitting beside them. Weights read as they are (the embedding, norms, anything not packed) keep
// their bytes.
#pragma once

#include <memory>

#include "core/tensor.h"
#include "runtime/kernels/quant_matmul.h"

namespace strata {

// Whether packing releases the source bytes (off by default: a library user may read the weights again, and a
// Composition of Experts reads an expert's file with an unpacked executor). Set before executors are built.
void SetReleasePackedSources(bool on);
bool ReleasePackedSources();

// The packed form of `w`, shared: packed on first use, kept while any executor holds it, and for as long as
// w's storage lives once its source was released (the bytes cannot be packed again). Null when w does not take
// the integer path. `may_release`: the caller knows no other op reads w's bytes (a tied embedding does).
std::shared_ptr<const kernels::PackedWeight> SharedPack(const Tensor& w, bool may_release);

// Bytes given back so far (for tests and logs).
int64_t ReleasedSourceBytes();

}  // namespace strata
