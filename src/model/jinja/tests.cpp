#include "model/jinja/tests.h"

#include <string>

#include "model/jinja/arguments.h"
#include "model/jinja/filters.h"
#include "model/jinja/operators.h"
#include "model/jinja/py_string.h"

namespace strata::jinja {

namespace {

constexpr std::string_view kTests[] = {
    "defined", "undefined", "none",    "boolean",  "true",  "false", "integer",     "float",  "number",
    "string",  "mapping",   "iterable", "sequence", "callable", "odd", "even",      "divisibleby", "eq",
    "equalto", "==",        "ne",       "!=",       "lt",    "lessthan", "<",       "le",     "<=",
    "gt",      "greaterthan", ">",      "ge",       ">=",    "in",    "sameas",      "lower",  "upper",
    "escaped", "filter",    "test"};

Result<bool> Compare(std::string_view name, const Value& value, ArgReader& args) {
  Value other = args.Get(0, "other");
  std::string_view op = name == "eq" || name == "equalto" ? "==" : name == "ne" ? "!="
                        : name == "lt" || name == "lessthan" ? "<" : name == "le" ? "<="
                        : name == "gt" || name == "greaterthan" ? ">" : name == "ge" ? ">=" : name;
  return CompareOp(op, value, other);
}

Result<bool> IsInteger(const Value& value, ArgReader& args, bool want_odd) {
  if (!value.is_int() && !value.is_bool())
    return Status::InvalidArgument(std::string("test requires an integer, got ") + value.TypeName());
  bool odd = (value.int_value() % 2) != 0;
  return odd == want_odd;
}

}  // namespace

bool IsKnownTest(std::string_view name) {
  for (std::string_view t : kTests)
    if (t == name) return true;
  return false;
}

Result<bool> ApplyTest(std::string_view name, const Value& value, const CallArgs& call_args) {
  ArgReader args(name, call_args);
  Result<bool> result = false;
  using K = Value::Kind;
  const K k = value.kind();
  if (name == "defined") result = k != K::kUndefined;
  else if (name == "undefined") result = k == K::kUndefined;
  else if (name == "none") result = k == K::kNone;
  else if (name == "boolean") result = k == K::kBool;
  else if (name == "true") result = k == K::kBool && value.bool_value();
  else if (name == "false") result = k == K::kBool && !value.bool_value();
  else if (name == "integer") result = k == K::kInt;
  else if (name == "float") result = k == K::kFloat;
  else if (name == "number") result = value.is_number();
  else if (name == "string") result = k == K::kString;
  else if (name == "mapping") result = k == K::kDict;
  // jinja2's Undefined is iterable and has a length, so these hold for it too.
  else if (name == "iterable" || name == "sequence")
    result = k == K::kString || k == K::kList || k == K::kDict || k == K::kUndefined;
  else if (name == "callable") result = k == K::kFunction;
  else if (name == "odd" || name == "even") result = IsInteger(value, args, name == "odd");
  else if (name == "divisibleby") {
    auto n = args.GetInt(0, "num", 0);
    if (!n.ok()) return n.status();
    if (*n == 0) return Status::InvalidArgument("divisibleby: division by zero");
    if (!value.is_int() && !value.is_bool()) return Status::InvalidArgument("divisibleby requires an integer");
    result = value.int_value() % *n == 0;
  } else if (name == "in") {
    result = Contains(args.Get(0, "seq"), value);
  } else if (name == "sameas") {
    Value other = args.Get(0, "other");
    // Python identity: None, True and False are singletons; other values compare by kind and content,
    // which is what identity means for the literals a template can write.
    result = value.kind() == other.kind() && ValuesEqual(value, other);
  } else if (name == "lower" || name == "upper") {
    std::string s = value.ToString();
    bool has_cased = false, all_match = true;
    for (char c : s) {
      bool lower = c >= 'a' && c <= 'z', upper = c >= 'A' && c <= 'Z';
      has_cased |= lower || upper;
      if ((name == "lower" && upper) || (name == "upper" && lower)) all_match = false;
    }
    result = has_cased && all_match;
  } else if (name == "escaped") {
    result = false;  // no Markup objects: autoescaping is off for chat templates
  } else if (name == "filter" || name == "test") {
    result = value.is_string() && (name == "filter" ? IsKnownFilter(value.str()) : IsKnownTest(value.str()));
  } else {
    result = Compare(name, value, args);
  }
  STRATA_RETURN_IF_ERROR(args.Finish());
  return result;
}

}  // namespace strata::jinja
