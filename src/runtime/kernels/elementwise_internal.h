// The vector paths of elementwise.cpp, in files of their own (compiled for their instruction set).
#pragma once

#include <cstdint>

namespace strata::kernels::internal {

#if defined(__x86_64__)
void SiluAvx512(const float* x, float* y, int64_t n);  // only where the CPU has AVX-512F
#endif

}  // namespace strata::kernels::internal
