// Splits Jinja source into text runs and the tokens inside {{ }} and {% %} tags, applying jinja2's whitespace
// rules as it goes ({%- -%} trimming, trim_blocks, lstrip_blocks, the dropped trailing newline) so the
// parser and evaluator never think about whitespace. Comments {# #} are dropped here.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace strata::jinja {

struct SourcePos {
  int line = 1;
  int column = 1;
};
// "line 3, column 14"
std::string FormatPos(SourcePos pos);

enum class TokenKind {
  kText,        // literal template text (already whitespace-trimmed)
  kExprBegin,   // {{
  kExprEnd,     // }}
  kBlockBegin,  // {%
  kBlockEnd,    // %}
  kName,
  kString,      // text holds the decoded value
  kInt,
  kFloat,
  kOperator,    // text holds the spelling: "+", "//", "==", "(", ...
  kEnd,         // end of the template
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::string text;
  SourcePos pos;
  int64_t int_value = 0;
  double float_value = 0;
};

// Environment options that change how text around tags is trimmed. Defaults are those of Hugging Face's
// apply_chat_template (trim_blocks and lstrip_blocks on, jinja2's default of dropping one trailing newline).
struct WhitespaceOptions {
  bool trim_blocks = true;             // drop the first newline after a block or comment tag
  bool lstrip_blocks = true;           // drop spaces/tabs before a block or comment tag at the start of a line
  bool keep_trailing_newline = false;  // jinja2 drops a single newline at the end of the source
};

// Tokenizes `source`; errors (unterminated tag or string, stray character) name the position.
Result<std::vector<Token>> Tokenize(std::string_view source, const WhitespaceOptions& options);

}  // namespace strata::jinja
