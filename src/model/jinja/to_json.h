// JSON serialisation as Hugging Face's chat-template `tojson` filter does it: json.dumps with
// ensure_ascii=False, dict insertion order kept, Python's separators (", " and ": ", or "," with an indent).
#pragma once

#include <string>

#include "core/status.h"
#include "model/jinja/value.h"

namespace strata::jinja {

struct JsonOptions {
  int indent = -1;  // < 0: one line
  bool sort_keys = false;
  std::string item_separator;  // empty: Python's default for the indent mode
  std::string key_separator;
};

// Fails for values JSON cannot hold (undefined, functions).
Result<std::string> ToJson(const Value& value, const JsonOptions& options);

}  // namespace strata::jinja
