// jinja2's built-in filters (`value | name(args)`) that chat templates use, with Hugging Face's `tojson`.
#pragma once

#include <string_view>

#include "core/status.h"
#include "model/jinja/value.h"

namespace strata::jinja {

// Whether `name` is a filter this renderer implements (the parser rejects others as unsupported).
bool IsKnownFilter(std::string_view name);
// Applies filter `name` to `value` with the filter's extra arguments.
Result<Value> ApplyFilter(std::string_view name, const Value& value, const CallArgs& args);

}  // namespace strata::jinja
