// jinja2's built-in tests, the right-hand side of `x is defined`, `x is string`, `x is divisibleby 3`, ...
#pragma once

#include <string_view>

#include "core/status.h"
#include "model/jinja/value.h"

namespace strata::jinja {

// Whether `name` is a test this renderer implements (the parser rejects others as unsupported).
bool IsKnownTest(std::string_view name);
// Applies test `name` to `value` with the test's extra arguments.
Result<bool> ApplyTest(std::string_view name, const Value& value, const CallArgs& args);

}  // namespace strata::jinja
