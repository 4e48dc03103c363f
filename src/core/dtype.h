// Element types with their storage layouts exactly as GGUF/ggml defines them (type ids are ggml's), plus the
// scalar conversions every kernel is tested against.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace strata {

// Values are ggml's type ids, so a GGUF tensor's type field maps directly.
enum class DType : uint32_t {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ8_0 = 8,
  kI32 = 26,
  kBF16 = 30,
};

inline constexpr int64_t kQK = 32;  // elements per Q8_0 / Q4_0 block

// ggml block_q8_0: fp16 scale, 32 signed 8-bit values; value = qs[i] * d.
struct BlockQ8_0 {
  uint16_t d;
  int8_t qs[kQK];
};
static_assert(sizeof(BlockQ8_0) == 34);

// ggml block_q4_0: fp16 scale, 32 4-bit values; low nibbles are elements 0..15, high nibbles 16..31;
// value = (nibble - 8) * d.
struct BlockQ4_0 {
  uint16_t d;
  uint8_t qs[kQK / 2];
};
static_assert(sizeof(BlockQ4_0) == 18);

struct DTypeTraits {
  const char* name;      // ggml's lower-case name: "f32", "q8_0", ...
  int64_t block_elems;   // elements per block (1 for plain types)
  int64_t block_bytes;   // bytes per block
};

// Traits of a DType Strata supports.
const DTypeTraits& Traits(DType t);
inline const char* Name(DType t) { return Traits(t).name; }

// True when `ggml_type` is a type Strata can load (F32, F16, BF16, Q8_0, Q4_0, I32).
bool IsSupportedGgmlType(uint32_t ggml_type);
// ggml's name for any type id it defines ("q2_k", "iq4_nl", ...), or "" when the id is unknown to ggml too.
const char* GgmlTypeName(uint32_t ggml_type);
// Block size and bytes for any ggml type id whose layout is known (supported or not); false when unknown.
bool GgmlTypeBlock(uint32_t ggml_type, int64_t* block_elems, int64_t* block_bytes);

// Bytes of n elements of t; n must be a multiple of the block size.
inline int64_t RowBytes(DType t, int64_t n) {
  const auto& tr = Traits(t);
  return n / tr.block_elems * tr.block_bytes;
}

// IEEE half and bfloat16 conversions (round to nearest even on the way down).
float Fp16ToFp32(uint16_t h);
uint16_t Fp32ToFp16(float f);
inline float Bf16ToFp32(uint16_t h) {
  uint32_t u = static_cast<uint32_t>(h) << 16;
  float f;
  __builtin_memcpy(&f, &u, 4);
  return f;
}
uint16_t Fp32ToBf16(float f);

// Scalar reference: n elements of type t at src (n a multiple of the block) to float.
void DequantizeRow(DType t, const void* src, float* dst, int64_t n);
// Scalar reference quantization as ggml does it (Q8_0: d = amax/127, q = round(x/d); Q4_0: d = max/-8,
// q = min(15, trunc(x/d + 8.5))). Used to build test tensors; F32/F16/BF16 are plain conversions.
void QuantizeRow(DType t, const float* src, void* dst, int64_t n);

}  // namespace strata
