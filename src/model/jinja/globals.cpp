#include "model/jinja/globals.h"

#include <cmath>
#include <string>

#include "model/jinja/arguments.h"
#include "model/jinja/operators.h"

namespace strata::jinja {

namespace {

Result<Value> Range(CallArgs& call) {
  for (const Value& v : call.positional)
    if (!v.is_int() && !v.is_bool()) return Status::InvalidArgument("range() arguments must be integers");
  if (call.positional.empty() || call.positional.size() > 3 || !call.keyword.empty())
    return Status::InvalidArgument("range() takes 1 to 3 positional arguments");
  int64_t start = 0, stop = 0, step = 1;
  if (call.positional.size() == 1) {
    stop = call.positional[0].int_value();
  } else {
    start = call.positional[0].int_value();
    stop = call.positional[1].int_value();
    if (call.positional.size() == 3) step = call.positional[2].int_value();
  }
  if (step == 0) return Status::InvalidArgument("range() step must not be zero");
  // Count first (in floating point, which cannot overflow) so a huge range fails before allocating.
  double count = std::ceil((static_cast<double>(stop) - static_cast<double>(start)) / static_cast<double>(step));
  if (count > static_cast<double>(kMaxListItems)) return Status::InvalidArgument("range() is too large");
  ValueList out;
  for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
    out.push_back(Value::Int(i));
    if ((step > 0 && i > INT64_MAX - step) || (step < 0 && i < INT64_MIN - step)) break;
  }
  return Value::List(std::move(out));
}

// namespace(a=1) / dict(a=1); a dict passed positionally seeds the entries, as in Python.
Result<Value> MakeDict(CallArgs& call, bool is_namespace) {
  ValueDict d;
  d.is_namespace = is_namespace;
  if (call.positional.size() > 1) return Status::InvalidArgument("expected at most one positional argument");
  if (call.positional.size() == 1) {
    if (!call.positional[0].is_dict()) return Status::InvalidArgument("expected a dict as positional argument");
    d.items = call.positional[0].dict().items;
  }
  for (auto& [k, v] : call.keyword) d.Set(k, v);
  return Value::Dict(std::move(d));
}

}  // namespace

void AddBuiltinGlobals(ValueDict& globals) {
  globals.Set("range", Value::Func("range", Range));
  globals.Set("namespace", Value::Func("namespace", [](CallArgs& c) { return MakeDict(c, true); }));
  globals.Set("dict", Value::Func("dict", [](CallArgs& c) { return MakeDict(c, false); }));
  globals.Set("raise_exception", Value::Func("raise_exception", [](CallArgs& c) -> Result<Value> {
                // The template's own message, unchanged: it is written for the user.
                std::string message = c.positional.empty() ? "raise_exception() called" : c.positional[0].ToString();
                return Status::InvalidArgument(message);
              }));
}

}  // namespace strata::jinja
