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
  kQ4_1 = 3,  // core/quants_q4_1_q5.h
  kQ5_0 = 6,
  kQ5_1 = 7,
  kQ8_0 = 8,
  kQ2_K = 10,
  kQ3_K = 11,
  kQ4_K = 12,
  kQ5_K = 13,
  kQ6_K = 14,
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

inline constexpr int64_t kQK_K = 256;  // elements per K-quant super-block (Q2_K .. Q6_K)

// ggml block_q4_K: a super-block of 8 sub-blocks of 32 elements. Each sub-block j has a 6-bit scale sc_j and a
// 6-bit min m_j; value = d * sc_j * q - dmin * m_j with q the 4-bit quant. qs byte 32p + l holds element 64p + l
// (low nibble, sub-block 2p) and 64p + 32 + l (high nibble, sub-block 2p + 1). `scales` packs the 6-bit values:
// bytes 0..3 hold sc_0..3 in their low 6 bits, bytes 4..7 m_0..3; sub-blocks 4..7 keep their low 4 bits in the
// nibbles of bytes 8..11 (sc low, m high) and their top 2 bits in the top 2 bits of bytes 0..3 (sc) and 4..7 (m).
struct BlockQ4_K {
  uint16_t d;     // fp16 scale of the sub-block scales
  uint16_t dmin;  // fp16 scale of the sub-block mins
  uint8_t scales[12];
  uint8_t qs[kQK_K / 2];
};
static_assert(sizeof(BlockQ4_K) == 144);

// ggml block_q6_K: a super-block of 16 sub-blocks of 16 elements, each with a signed 8-bit scale;
// value = d * scales[i / 16] * (q - 32) with q the 6-bit quant of element i. The 256 elements are two halves of
// 128; in half h, element 128h + 32r + l (r 0..3, l 0..31) keeps its low 4 bits in ql[64h + l + 32 (r & 1)]
// (low nibble for r < 2, high for r >= 2) and its top 2 bits in bits 2r, 2r + 1 of qh[32h + l].
struct BlockQ6_K {
  uint8_t ql[kQK_K / 2];
  uint8_t qh[kQK_K / 4];
  int8_t scales[kQK_K / 16];
  uint16_t d;  // fp16 super-block scale
};
static_assert(sizeof(BlockQ6_K) == 210);

// ggml block_q2_K: 16 sub-blocks of 16 elements; scales[s] holds sub-block s's 4-bit scale (low nibble) and
// 4-bit min (high nibble); value = d * sc * q - dmin * m with q the 2-bit quant. Element 128h + 32k + l
// (h 0..1, k 0..3, l 0..31) is bits 2k, 2k + 1 of qs[32h + l].
struct BlockQ2_K {
  uint8_t scales[kQK_K / 16];
  uint8_t qs[kQK_K / 4];
  uint16_t d;     // fp16 scale of the sub-block scales
  uint16_t dmin;  // fp16 scale of the sub-block mins
};
static_assert(sizeof(BlockQ2_K) == 84);

// ggml block_q3_K: 16 sub-blocks of 16 elements, each with a 6-bit scale stored as sc + 32; value =
// d * sc * (q - 4) with q the 3-bit quant. Element e = 128h + 32k + l keeps its low 2 bits in bits 2k, 2k + 1
// of qs[32h + l] and its top bit in bit e / 32 of hmask[l]. Scale s keeps its low 4 bits in the low (s < 8) or
// high (s >= 8) nibble of scales[s % 8] and its top 2 bits in bits 2 (s / 4), 2 (s / 4) + 1 of scales[8 + s % 4].
struct BlockQ3_K {
  uint8_t hmask[kQK_K / 8];
  uint8_t qs[kQK_K / 4];
  uint8_t scales[12];
  uint16_t d;  // fp16 super-block scale
};
static_assert(sizeof(BlockQ3_K) == 110);

// ggml block_q5_K: as block_q4_K (8 sub-blocks of 32, 6-bit scales and mins packed the same way) with 5-bit
// quants: element 64p + 32i + l keeps its low 4 bits in the low (i = 0) or high (i = 1) nibble of qs[32p + l]
// and its top bit in bit 2p + i of qh[l].
struct BlockQ5_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[12];
  uint8_t qh[kQK_K / 8];
  uint8_t qs[kQK_K / 2];
};
static_assert(sizeof(BlockQ5_K) == 176);

struct DTypeTraits {
  const char* name;      // ggml's lower-case name: "f32", "q8_0", ...
  int64_t block_elems;   // elements per block (1 for plain types)
  int64_t block_bytes;   // bytes per block
};

// Traits of a DType Strata supports.
const DTypeTraits& Traits(DType t);
inline const char* Name(DType t) { return Traits(t).name; }

// True when `ggml_type` is a type Strata can load (F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K .. Q6_K,
// I32).
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
// Scalar reference quantization as ggml's quantize_row_*_ref does it (Q8_0: d = amax/127, q = round(x/d); Q4_0:
// d = max/-8, q = min(15, trunc(x/d + 8.5)); Q4_K: per sub-block a weighted least-squares fit of scale and
// min, both then quantized to 6 bits; Q6_K: per sub-block a searched scale, quantized to 8 bits). Used to build
// test tensors and model files; F32/F16/BF16 are plain conversions.
void QuantizeRow(DType t, const float* src, void* dst, int64_t n);

}  // namespace strata
