// Builds the statement tree of a template from its tokens: text, {{ output }}, if/elif/else, for (with loop
// filter and else), set (plain, namespace attribute, tuple, block), macro, break/continue and HF's
// {% generation %}. Tags this renderer does not implement (include, extends, call, ...) give kUnsupported.
#pragma once

#include <vector>

#include "core/status.h"
#include "model/jinja/ast.h"
#include "model/jinja/lexer.h"

namespace strata::jinja {

// Parses a whole template. Errors name the construct and its line and column.
Result<Body> ParseTemplate(const std::vector<Token>& tokens);

}  // namespace strata::jinja
