// Renders a parsed template: walks the statement tree with jinja2's scoping (each for-loop iteration and each
// macro call gets its own scope; if-blocks do not), evaluates expressions, and bounds loop iterations, macro
// recursion and output size so a hostile template fails with a Status instead of exhausting the process.
#pragma once

#include <string>

#include "core/status.h"
#include "model/jinja/ast.h"
#include "model/jinja/value.h"

namespace strata::jinja {

// Renders `body` with `variables` as the template's globals (built-in functions are added).
// raise_exception() surfaces as kInvalidArgument carrying the template's message; other errors name the
// line and column of the expression that failed.
Result<std::string> RenderTemplate(const Body& body, ValueDict variables);

}  // namespace strata::jinja
