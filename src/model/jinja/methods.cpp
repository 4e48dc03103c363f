#include "model/jinja/methods.h"

#include <algorithm>
#include <string>

#include "model/jinja/arguments.h"
#include "model/jinja/operators.h"
#include "model/jinja/py_string.h"

namespace strata::jinja {

namespace {

constexpr std::string_view kStringMethods[] = {
    "strip", "lstrip", "rstrip", "upper",  "lower",     "title",   "capitalize", "startswith", "endswith",
    "split", "replace", "find",  "count",  "join",      "isdigit", "isalpha",    "isspace",    "splitlines"};
constexpr std::string_view kDictMethods[] = {"items", "keys", "values", "get"};

// startswith / endswith accept one prefix or a tuple of them.
Result<Value> AffixTest(const std::string& s, const Value& affixes, bool prefix) {
  ValueList options = affixes.is_list() ? affixes.list() : ValueList{affixes};
  for (const Value& a : options) {
    if (!a.is_string()) return Status::InvalidArgument("startswith/endswith: expected a string or a tuple of strings");
    const std::string& x = a.str();
    bool match = x.size() <= s.size() && (prefix ? s.compare(0, x.size(), x) == 0 : s.compare(s.size() - x.size(), x.size(), x) == 0);
    if (match) return Value::Bool(true);
  }
  return Value::Bool(false);
}

Result<Value> StringMethod(const std::string& s, std::string_view name, ArgReader& args) {
  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    STRATA_ASSIGN_OR_RETURN(auto chars, args.GetOptionalString(0, "chars"));
    return Value::String(PyStrip(s, chars, name != "rstrip", name != "lstrip"));
  }
  if (name == "upper") return Value::String(AsciiUpper(s));
  if (name == "lower") return Value::String(AsciiLower(s));
  if (name == "title") return Value::String(PyTitle(s));
  if (name == "capitalize") return Value::String(PyCapitalize(s));
  if (name == "startswith" || name == "endswith") return AffixTest(s, args.Get(0, "prefix"), name == "startswith");
  if (name == "split") {
    STRATA_ASSIGN_OR_RETURN(auto sep, args.GetOptionalString(0, "sep"));
    STRATA_ASSIGN_OR_RETURN(int64_t maxsplit, args.GetInt(1, "maxsplit", -1));
    if (sep && sep->empty()) return Status::InvalidArgument("split: empty separator");
    ValueList out;
    for (std::string& part : PySplit(s, sep, maxsplit)) out.push_back(Value::String(std::move(part)));
    return Value::List(std::move(out));
  }
  if (name == "splitlines") {
    ValueList out;
    std::vector<std::string> lines = PySplit(s, std::string("\n"), -1);
    if (!lines.empty() && lines.back().empty()) lines.pop_back();
    for (std::string& line : lines) out.push_back(Value::String(std::move(line)));
    return Value::List(std::move(out));
  }
  if (name == "replace") {
    std::string out = PyReplace(s, args.Get(0, "old").ToString(), args.Get(1, "new").ToString(),
                                args.Get(2, "count", Value::Int(-1)).int_value());
    if (out.size() > kMaxStringBytes) return Status::InvalidArgument("replace: result is too large");
    return Value::String(std::move(out));
  }
  if (name == "find" || name == "count") {
    std::string needle = args.Get(0, "sub").ToString();
    if (name == "find") {
      size_t at = s.find(needle);
      return Value::Int(at == std::string::npos ? -1 : static_cast<int64_t>(CodePointCount(s.substr(0, at))));
    }
    if (needle.empty()) return Value::Int(static_cast<int64_t>(CodePointCount(s)) + 1);
    int64_t n = 0;
    for (size_t at = s.find(needle); at != std::string::npos; at = s.find(needle, at + needle.size())) ++n;
    return Value::Int(n);
  }
  if (name == "join") {
    STRATA_ASSIGN_OR_RETURN(ValueList items, Iterate(args.Get(0, "iterable")));
    std::string out;
    for (size_t i = 0; i < items.size(); ++i) {
      if (!items[i].is_string()) return Status::InvalidArgument("join: sequence item is not a string");
      if (i) out += s;
      out += items[i].str();
      if (out.size() > kMaxStringBytes) return Status::InvalidArgument("join: result is too large");
    }
    return Value::String(std::move(out));
  }
  auto all = [&](auto pred) { return Value::Bool(!s.empty() && std::all_of(s.begin(), s.end(), pred)); };
  if (name == "isdigit") return all([](char c) { return c >= '0' && c <= '9'; });
  if (name == "isalpha") return all([](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); });
  return all([](char c) { return c == ' ' || (c >= '\t' && c <= '\r'); });  // isspace
}

Result<Value> DictMethod(const ValueDict& d, std::string_view name, ArgReader& args) {
  if (name == "get") {
    Value key = args.Get(0, "key");
    Value fallback = args.Get(1, "default", Value::None());
    const Value* v = key.is_string() ? d.Find(key.str()) : nullptr;
    return v ? *v : fallback;
  }
  ValueList out;
  for (const auto& [k, v] : d.items) {
    if (name == "items") out.push_back(Value::List({Value::String(k), v}));
    else if (name == "keys") out.push_back(Value::String(k));
    else out.push_back(v);
  }
  return Value::List(std::move(out));
}

}  // namespace

bool HasMethod(const Value& obj, std::string_view name) {
  if (obj.is_string()) return std::find(std::begin(kStringMethods), std::end(kStringMethods), name) != std::end(kStringMethods);
  if (obj.is_dict() && !obj.dict().is_namespace)
    return std::find(std::begin(kDictMethods), std::end(kDictMethods), name) != std::end(kDictMethods);
  return false;
}

Result<Value> CallMethod(const Value& obj, std::string_view name, const CallArgs& call_args) {
  ArgReader args(name, call_args);
  Result<Value> result = obj.is_string() ? StringMethod(obj.str(), name, args) : DictMethod(obj.dict(), name, args);
  if (!result.ok()) return result;
  STRATA_RETURN_IF_ERROR(args.Finish());
  return result;
}

}  // namespace strata::jinja
