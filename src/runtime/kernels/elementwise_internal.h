// The vector paths of elementwise.cpp, in files of their own (compiled for their instruction set).
#pragma once

#include <cstdint>

namespace strata::kernels::internal {

#if defined(__x86_64__)
void SiluAvx512(const float* x, float* y, int64_t n);
bool ElementwiseAvx512Supported();
#endif

}  // namespace strata::kernels::internal
