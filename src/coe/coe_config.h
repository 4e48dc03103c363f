// `strata serve --coe coe.yaml`: the Composition of Experts' configuration. YAML (and so JSON) through
// yaml-cpp; every field is checked here so that a bad file fails at start-up with the field's name.
//
//   name: my-coe                  # the model id that routes (as does "auto")
//   ram_budget: 512MiB            # bytes, or with a unit (KiB MiB GiB, KB MB GB)
//   kv_per_expert: 8MiB           # optional: each resident expert's KV cache (default: max_num_seqs contexts)
//   router: {model: router.gguf, method: embedding}   # optional: default the lexical router; methods:
//                                 # lexical, embedding (needs model), likelihood (shortlist: 3)
//   experts:
//     - {name: c-code, model: experts/c.gguf, description: "C source code", examples: ["#include <stdio.h>"]}
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace strata::coe {

struct ExpertSpec {
  std::string name;
  std::filesystem::path model;  // resolved against the config file's folder
  std::string description;
  std::vector<std::string> examples;
};

struct RouterSpec {
  std::filesystem::path model;  // empty: no router model
  std::string method;           // "lexical", "embedding" (needs model) or "likelihood"
  int shortlist = 3;            // likelihood: experts the first stage (embedding with a model, else lexical)
                                // shortlists for scoring
};

struct CoeConfig {
  std::string name;
  int64_t ram_budget = 0;
  int64_t kv_per_expert = 0;  // 0: the engine's default for max_num_seqs full contexts
  RouterSpec router;
  std::vector<ExpertSpec> experts;
};

// Parses and checks a config; relative paths are taken against `base_dir`. Model files must exist.
Result<CoeConfig> ParseCoeConfig(const std::string& text, const std::filesystem::path& base_dir);
// Reads `path` and parses it against its folder.
Result<CoeConfig> LoadCoeConfig(const std::filesystem::path& path);
// "512MiB", "1.5 GB", "4096": bytes; units are powers of 1024 (KiB, MiB, GiB, TiB; K, M, G, T) or of 1000
// (KB, MB, GB, TB). Refuses negatives, fractions of a byte and values past int64.
Result<int64_t> ParseByteSize(std::string_view text);

}  // namespace strata::coe
