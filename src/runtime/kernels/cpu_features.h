// CPU features the kernels dispatch on that __builtin_cpu_supports cannot name on every compiler (clang 14 has
// no "f16c"), read from CPUID directly.
#pragma once

#if defined(__x86_64__)
#include <cpuid.h>
#endif

namespace strata::kernels {

// F16C (half <-> float conversion): CPUID leaf 1, ECX bit 29.
inline bool CpuHasF16c() {
#if defined(__x86_64__)
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  return __get_cpuid(1, &eax, &ebx, &ecx, &edx) != 0 && (ecx & bit_F16C) != 0;
#else
  return false;
#endif
}

}  // namespace strata::kernels
