// What `strata` tells someone who has just installed it: the guide printed with no arguments, the hint after a
// missing --model, and what to try when a model path does not load.
#pragma once

#include <cstdio>
#include <string>

namespace strata::cli {

// The first-run guide: what a model is, how to get one, the commands to start with.
void PrintGuide(std::FILE* out);

// Lines to add after "--model is required": where models come from and a quick test model.
std::string MissingModelHint();

// Prints to stderr what to try when `path` did not load, from what is at the path: nothing (check it), a folder
// without a model (the GGUF files it holds, or what a Hugging Face folder needs), a file that is not GGUF.
// Nothing when the path looks like a model and the loader's message says it all (an unsupported architecture
// names the supported ones).
void PrintLoadFailureHint(const std::string& path);

}  // namespace strata::cli
