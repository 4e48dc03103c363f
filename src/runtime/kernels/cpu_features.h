// CPU features the kernels dispatch on that __builtin_cpu_supports cannot name on every compiler (clang 14 has
// no "f16c"), read from CPUID directly.
#pragma once

#if defined(__x86_64__)
#include <cpuid.h>
#endif

#include <cstdlib>
#include <cstring>

namespace strata::kernels {

// AVX-VNNI (vpdpbusd on 256-bit VEX vectors): CPUID leaf 7 subleaf 1, EAX bit 4.
inline bool CpuHasAvxVnni() {
#if defined(__x86_64__)
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  return __get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx) != 0 && (eax & (1u << 4)) != 0;
#else
  return false;
#endif
}

// AVX512-FP16 (arithmetic on 32 halves a vector): CPUID leaf 7 subleaf 0, EDX bit 23.
inline bool CpuHasAvx512Fp16() {
#if defined(__x86_64__)
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  return __get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) != 0 && (edx & (1u << 23)) != 0;
#else
  return false;
#endif
}

// STRATA_ISA=avx512|avxvnni|avx2|scalar forces the kernels below what the CPU has, for tests and benchmarks
// (a path the CPU lacks is never taken); "" when unset.
inline const char* IsaOverride() {
  static const char* value = [] {
    const char* env = std::getenv("STRATA_ISA");
    return env ? env : "";
  }();
  return value;
}

// F16C (half <-> float conversion): CPUID leaf 1, ECX bit 29.
inline bool CpuHasF16c() {
#if defined(__x86_64__)
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  return __get_cpuid(1, &eax, &ebx, &ecx, &edx) != 0 && (ecx & bit_F16C) != 0;
#else
  return false;
#endif
}

// An Intel CPU (CPUID vendor "GenuineIntel"): where the prefetch a streaming kernel wants differs by vendor.
inline bool CpuIsIntel() {
#if defined(__x86_64__)
  static const bool intel = [] {
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (__get_cpuid(0, &eax, &ebx, &ecx, &edx) == 0) return false;
    char vendor[12];
    std::memcpy(vendor, &ebx, 4), std::memcpy(vendor + 4, &edx, 4), std::memcpy(vendor + 8, &ecx, 4);
    return std::memcmp(vendor, "GenuineIntel", 12) == 0;
  }();
  return intel;
#else
  return false;
#endif
}

}  // namespace strata::kernels
