// A /v1/completions body whose response_format schema nests {"type":"object","properties":{"a": ...}} `depth`
// times, built as text (building it as json would recurse `depth` deep). 50,000 levels make ~1.85 MB.
#pragma once

#include <string>

namespace strata::testing {

inline std::string DeepSchemaBody(int depth) {
  std::string open, close;
  for (int i = 0; i < depth; ++i) open += R"({"type":"object","properties":{"a":)", close += "}}";
  return R"({"prompt":"x","max_tokens":4,"response_format":{"type":"json_schema","json_schema":{"name":"d","schema":)" +
         open + R"({"type":"integer"})" + close + "}}}";
}

}  // namespace strata::testing
