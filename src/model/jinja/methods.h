// The Python methods templates call on values: str.strip(), str.split(), str.startswith(), dict.items(),
// dict.get(), ... Mutating methods (list.append, dict.update) are absent, as in HF's sandboxed environment.
#pragma once

#include <string_view>

#include "core/status.h"
#include "model/jinja/value.h"

namespace strata::jinja {

// Whether `obj` has a method called `name` that this renderer implements.
bool HasMethod(const Value& obj, std::string_view name);
// Calls obj.name(args); call only when HasMethod is true.
Result<Value> CallMethod(const Value& obj, std::string_view name, const CallArgs& args);

}  // namespace strata::jinja
