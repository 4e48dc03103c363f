// The dynamic values a Jinja template computes with, modelled on the Python objects jinja2 sees: undefined,
// None, bool, int, float, str, list, dict (insertion-ordered, string keys) and callables. Printing, truthiness
// and equality follow Python so rendered text matches jinja2 byte for byte.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "core/status.h"

namespace strata::jinja {

class Value;
using ValueList = std::vector<Value>;

// Arguments of a call, filter, test or method: positional first, then name=value pairs.
struct CallArgs {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keyword;
};

// A built-in function or a macro. Values never outlive the render that created them, so the function may
// capture the evaluator by reference.
struct Function {
  std::string name;
  std::function<Result<Value>(CallArgs&)> call;
};

// A dict keeps insertion order (Python 3.7+ does, and tojson / items() output depends on it). Chat-template
// dicts are small, so lookup is a linear scan. A namespace() object is a dict whose attributes `set` may assign.
struct ValueDict {
  std::vector<std::pair<std::string, Value>> items;
  bool is_namespace = false;

  const Value* Find(std::string_view key) const;
  void Set(std::string key, Value value);
};

class Value {
 public:
  enum class Kind { kUndefined, kNone, kBool, kInt, kFloat, kString, kList, kDict, kFunction };

  Value() = default;  // undefined
  static Value Undefined(std::string name = "");
  static Value None();
  static Value Bool(bool b);
  static Value Int(int64_t i);
  static Value Float(double d);
  static Value String(std::string s);
  static Value List(ValueList items);
  static Value Dict(ValueDict dict);
  static Value Dict(std::shared_ptr<ValueDict> dict);
  static Value Func(std::string name, std::function<Result<Value>(CallArgs&)> call);

  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == Kind::kUndefined; }
  bool is_none() const { return kind_ == Kind::kNone; }
  bool is_bool() const { return kind_ == Kind::kBool; }
  bool is_int() const { return kind_ == Kind::kInt; }
  bool is_float() const { return kind_ == Kind::kFloat; }
  bool is_number() const { return is_int() || is_float() || is_bool(); }  // Python: bool is an int
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_list() const { return kind_ == Kind::kList; }
  bool is_dict() const { return kind_ == Kind::kDict; }
  bool is_function() const { return kind_ == Kind::kFunction; }

  bool bool_value() const { return std::get<bool>(data_); }
  int64_t int_value() const;  // bool or int
  double number_value() const;  // bool, int or float
  const std::string& str() const { return std::get<std::string>(data_); }
  // The name an undefined value was looked up by ("" when unknown), for "'x' is undefined" messages.
  std::string undefined_name() const;
  const ValueList& list() const { return *std::get<std::shared_ptr<ValueList>>(data_); }
  const ValueDict& dict() const { return *std::get<std::shared_ptr<ValueDict>>(data_); }
  ValueDict& mutable_dict() const { return *std::get<std::shared_ptr<ValueDict>>(data_); }
  const Function& function() const { return *std::get<std::shared_ptr<Function>>(data_); }

  // Python truthiness: undefined, None, False, 0, 0.0, "", [] and {} are false.
  bool Truthy() const;
  // str(value): what {{ value }} prints (undefined prints nothing, None prints "None").
  std::string ToString() const;
  // repr(value): how the value looks inside a printed list or dict.
  std::string Repr() const;
  // Python type name for error messages ("str", "int", "list", "dict", "NoneType", "undefined").
  const char* TypeName() const;

 private:
  Kind kind_ = Kind::kUndefined;
  std::variant<std::monostate, bool, int64_t, double, std::string, std::shared_ptr<ValueList>,
               std::shared_ptr<ValueDict>, std::shared_ptr<Function>>
      data_;
};

// Python ==: numbers compare by value across int/float/bool, containers element-wise, otherwise same kind.
bool ValuesEqual(const Value& a, const Value& b);
// Python <: numbers, strings (by code point) and lists (lexicographic); other pairs are a type error.
Result<bool> ValueLess(const Value& a, const Value& b);
// Python float repr ("0.5", "2.0", "1e+20", "1.5e-05").
std::string FormatFloat(double d);
// Python repr of a str: single quotes unless the text holds a ' and no ".
std::string ReprString(std::string_view s);

}  // namespace strata::jinja
