// The global functions a chat template can call: range(), namespace(), dict() and Hugging Face's
// raise_exception(). strftime_now is deliberately absent so renders are deterministic; templates that test
// `strftime_now is defined` fall back to their built-in date.
#pragma once

#include "model/jinja/value.h"

namespace strata::jinja {

// Adds the built-in functions to `globals` (existing entries with the same names are replaced).
void AddBuiltinGlobals(ValueDict& globals);

}  // namespace strata::jinja
