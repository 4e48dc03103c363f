// llama.cpp's own quantizer (llama_model_quantize) from the installed libllama of node-llama-cpp, so that
// llama.cpp's preset files (Q2_K, Q3_K_M, Q4_K_M, Q5_K_M, Q4_1, ...) can be made without building llama.cpp.
// It takes llama-quantize's arguments, so it can stand in for it (STRATA_LLAMA_QUANTIZE):
//   quantize IN.gguf OUT.gguf PRESET [THREADS]
// Build (llama.h from the source bundle, bench/llama_cpp/setup.sh's DIR for the library):
//   bins=/tmp/strata-llama-cpp/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64
//   cc -O2 -I LLAMA_SRC/include -I LLAMA_SRC/ggml/include bench/llama_cpp/quantize.c -o /tmp/quantize \
//      $bins/libllama.v*.so -Wl,-rpath,$bins
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llama.h"

struct Preset {
  const char* name;
  enum llama_ftype ftype;
};

static const struct Preset kPresets[] = {
    {"F16", LLAMA_FTYPE_MOSTLY_F16},       {"BF16", LLAMA_FTYPE_MOSTLY_BF16},     {"Q8_0", LLAMA_FTYPE_MOSTLY_Q8_0},
    {"Q4_0", LLAMA_FTYPE_MOSTLY_Q4_0},     {"Q4_1", LLAMA_FTYPE_MOSTLY_Q4_1},     {"Q5_0", LLAMA_FTYPE_MOSTLY_Q5_0},
    {"Q5_1", LLAMA_FTYPE_MOSTLY_Q5_1},     {"Q2_K", LLAMA_FTYPE_MOSTLY_Q2_K},     {"Q3_K_S", LLAMA_FTYPE_MOSTLY_Q3_K_S},
    {"Q3_K_M", LLAMA_FTYPE_MOSTLY_Q3_K_M}, {"Q3_K_L", LLAMA_FTYPE_MOSTLY_Q3_K_L}, {"Q4_K_S", LLAMA_FTYPE_MOSTLY_Q4_K_S},
    {"Q4_K_M", LLAMA_FTYPE_MOSTLY_Q4_K_M}, {"Q5_K_S", LLAMA_FTYPE_MOSTLY_Q5_K_S}, {"Q5_K_M", LLAMA_FTYPE_MOSTLY_Q5_K_M},
    {"Q6_K", LLAMA_FTYPE_MOSTLY_Q6_K},
};

int main(int argc, char** argv) {
  if (argc < 4 || argc > 5) {
    fprintf(stderr, "usage: %s IN.gguf OUT.gguf PRESET [THREADS]\n", argv[0]);
    return 2;
  }
  const struct Preset* preset = NULL;
  for (size_t i = 0; i < sizeof(kPresets) / sizeof(kPresets[0]); ++i)
    if (strcmp(argv[3], kPresets[i].name) == 0) preset = &kPresets[i];
  if (preset == NULL) {
    fprintf(stderr, "quantize: unknown preset %s\n", argv[3]);
    return 2;
  }
  llama_backend_init();
  struct llama_model_quantize_params params = llama_model_quantize_default_params();
  params.ftype = preset->ftype;
  params.nthread = argc == 5 ? atoi(argv[4]) : 0;
  const uint32_t rc = llama_model_quantize(argv[1], argv[2], &params);
  llama_backend_free();
  if (rc != 0) fprintf(stderr, "quantize: llama_model_quantize failed (%u)\n", rc);
  return rc == 0 ? 0 : 1;
}
