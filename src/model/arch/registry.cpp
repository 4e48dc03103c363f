// Every architecture Strata loads: one line each.
#include "model/arch/architecture.h"

#define STRATA_ARCHITECTURES(X) \
  X(Llama)                      \
  X(Qwen2)                      \
  X(Qwen3)                      \
  X(Phi3)                       \
  X(Gemma2)                     \
  X(Gemma3)                     \
  X(Qwen2Moe)                   \
  X(Qwen3Moe)                   \
  /* every line above ends in a backslash, so adding one is one line */

namespace strata {
namespace arch {
#define STRATA_DECLARE_ARCH(Name) const Architecture& Name##Architecture();
STRATA_ARCHITECTURES(STRATA_DECLARE_ARCH)
#undef STRATA_DECLARE_ARCH
}  // namespace arch

namespace {

const std::vector<const Architecture*>& All() {
#define STRATA_LIST_ARCH(Name) &arch::Name##Architecture(),
  static const std::vector<const Architecture*> all = {STRATA_ARCHITECTURES(STRATA_LIST_ARCH)};
#undef STRATA_LIST_ARCH
  return all;
}

}  // namespace

const Architecture* FindArchitecture(std::string_view name) {
  for (const Architecture* a : All())
    if (a->name == name) return a;
  return nullptr;
}

std::vector<std::string> ArchitectureNames() {
  std::vector<std::string> names;
  for (const Architecture* a : All()) names.emplace_back(a->name);
  return names;
}

}  // namespace strata
