#include "model/jinja/operators.h"

#include <cmath>
#include <limits>

#include "model/jinja/py_string.h"

namespace strata::jinja {

namespace {

Status OperandError(std::string_view op, const Value& a, const Value& b) {
  return Status::InvalidArgument("unsupported operand type(s) for " + std::string(op) + ": '" + a.TypeName() +
                                 "' and '" + b.TypeName() + "'");
}

// Python's floor division and modulo for integers (the result takes the sign of the divisor).
int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

int64_t FloorMod(int64_t a, int64_t b) {
  int64_t r = a % b;
  if (r != 0 && ((r < 0) != (b < 0))) r += b;
  return r;
}

Result<Value> Repeat(const Value& seq, int64_t times) {
  if (times <= 0) return seq.is_string() ? Value::String("") : Value::List({});
  size_t unit = seq.is_string() ? seq.str().size() : seq.list().size();
  size_t limit = seq.is_string() ? kMaxStringBytes : kMaxListItems;
  if (unit != 0 && static_cast<uint64_t>(times) > limit / unit)
    return Status::InvalidArgument("result of '*' repetition is too large");
  if (seq.is_string()) {
    std::string out;
    for (int64_t i = 0; i < times; ++i) out += seq.str();
    return Value::String(std::move(out));
  }
  ValueList out;
  for (int64_t i = 0; i < times; ++i) out.insert(out.end(), seq.list().begin(), seq.list().end());
  return Value::List(std::move(out));
}

Result<Value> IntArithmetic(std::string_view op, int64_t x, int64_t y) {
  int64_t r = 0;
  if (op == "+" && !__builtin_add_overflow(x, y, &r)) return Value::Int(r);
  if (op == "-" && !__builtin_sub_overflow(x, y, &r)) return Value::Int(r);
  if (op == "*" && !__builtin_mul_overflow(x, y, &r)) return Value::Int(r);
  if (op == "//" || op == "%") {
    if (y == 0) return Status::InvalidArgument("integer division or modulo by zero");
    if (x == std::numeric_limits<int64_t>::min() && y == -1) return Status::InvalidArgument("integer overflow");
    return Value::Int(op == "//" ? FloorDiv(x, y) : FloorMod(x, y));
  }
  if (op == "**") {
    if (y < 0) return Value::Float(std::pow(static_cast<double>(x), static_cast<double>(y)));
    int64_t acc = 1;
    for (int64_t i = 0; i < y; ++i) {
      if (__builtin_mul_overflow(acc, x, &acc)) return Status::InvalidArgument("integer overflow in '**'");
      if (acc == 0 || acc == 1) break;  // further multiplications don't change 0 or 1
    }
    return Value::Int(acc);
  }
  return Status::InvalidArgument("integer overflow in '" + std::string(op) + "'");
}

Result<Value> FloatArithmetic(std::string_view op, double x, double y) {
  if (op == "+") return Value::Float(x + y);
  if (op == "-") return Value::Float(x - y);
  if (op == "*") return Value::Float(x * y);
  if (op == "**") return Value::Float(std::pow(x, y));
  if (y == 0) return Status::InvalidArgument("float division by zero");
  if (op == "/") return Value::Float(x / y);
  if (op == "//") return Value::Float(std::floor(x / y));
  double r = std::fmod(x, y);  // "%": sign follows the divisor, as in Python
  if (r != 0 && ((r < 0) != (y < 0))) r += y;
  return Value::Float(r);
}

// Python's slice.indices(): clamps start/stop for a sequence of `len` items.
Status SliceIndices(const Value& start, const Value& stop, const Value& step, int64_t len, int64_t& b, int64_t& e,
                    int64_t& s) {
  auto get = [](const Value& v, int64_t fallback, int64_t& out) -> Status {
    if (v.is_undefined() || v.is_none()) {
      out = fallback;
      return Status::Ok();
    }
    if (!v.is_int() && !v.is_bool()) return Status::InvalidArgument("slice indices must be integers or None");
    out = v.int_value();
    return Status::Ok();
  };
  STRATA_RETURN_IF_ERROR(get(step, 1, s));
  if (s == 0) return Status::InvalidArgument("slice step cannot be zero");
  STRATA_RETURN_IF_ERROR(get(start, s > 0 ? 0 : len - 1, b));
  STRATA_RETURN_IF_ERROR(get(stop, s > 0 ? len : -1, e));
  auto clamp = [&](int64_t& i) {
    if (i < 0) i = std::max<int64_t>(i + len, s > 0 ? 0 : -1);
    else if (i >= len) i = s > 0 ? len : len - 1;
  };
  if (!(start.is_undefined() || start.is_none())) clamp(b);
  if (!(stop.is_undefined() || stop.is_none())) clamp(e);
  return Status::Ok();
}

}  // namespace

Status UndefinedError(const Value& undefined) {
  std::string name = undefined.undefined_name();
  return Status::InvalidArgument(name.empty() ? "an undefined value was used" : "'" + name + "' is undefined");
}

Result<Value> BinaryOp(std::string_view op, const Value& a, const Value& b) {
  if (op == "~") {
    std::string s = a.ToString() + b.ToString();
    if (s.size() > kMaxStringBytes) return Status::InvalidArgument("string result is too large");
    return Value::String(std::move(s));
  }
  if (a.is_undefined()) return UndefinedError(a);
  if (b.is_undefined()) return UndefinedError(b);
  if (a.is_number() && b.is_number()) {
    if (op == "/") {
      if (b.number_value() == 0) return Status::InvalidArgument("division by zero");
      return Value::Float(a.number_value() / b.number_value());
    }
    if (a.is_float() || b.is_float()) return FloatArithmetic(op, a.number_value(), b.number_value());
    return IntArithmetic(op, a.int_value(), b.int_value());
  }
  if (op == "+" && a.is_string() && b.is_string()) {
    if (a.str().size() + b.str().size() > kMaxStringBytes) return Status::InvalidArgument("string result is too large");
    return Value::String(a.str() + b.str());
  }
  if (op == "+" && a.is_list() && b.is_list()) {
    if (a.list().size() + b.list().size() > kMaxListItems) return Status::InvalidArgument("list result is too large");
    ValueList out = a.list();
    out.insert(out.end(), b.list().begin(), b.list().end());
    return Value::List(std::move(out));
  }
  if (op == "*" && (a.is_string() || a.is_list()) && (b.is_int() || b.is_bool())) return Repeat(a, b.int_value());
  if (op == "*" && (b.is_string() || b.is_list()) && (a.is_int() || a.is_bool())) return Repeat(b, a.int_value());
  if (op == "%" && a.is_string())
    return Status::Unsupported("printf-style string formatting ('...' % value) is not supported");
  return OperandError(op, a, b);
}

Result<bool> Contains(const Value& container, const Value& item) {
  switch (container.kind()) {
    case Value::Kind::kUndefined: return false;
    case Value::Kind::kString:
      if (!item.is_string())
        return Status::InvalidArgument(std::string("'in <string>' requires string as left operand, not ") +
                                       item.TypeName());
      return container.str().find(item.str()) != std::string::npos;
    case Value::Kind::kList:
      for (const Value& v : container.list())
        if (ValuesEqual(v, item)) return true;
      return false;
    case Value::Kind::kDict: return item.is_string() && container.dict().Find(item.str()) != nullptr;
    default:
      return Status::InvalidArgument(std::string("argument of type '") + container.TypeName() +
                                     "' is not iterable");
  }
}

Result<bool> CompareOp(std::string_view op, const Value& a, const Value& b) {
  if (op == "==") return ValuesEqual(a, b);
  if (op == "!=") return !ValuesEqual(a, b);
  if (op == "in") return Contains(b, a);
  if (op == "not in") {
    STRATA_ASSIGN_OR_RETURN(bool in, Contains(b, a));
    return !in;
  }
  if (a.is_undefined()) return UndefinedError(a);
  if (b.is_undefined()) return UndefinedError(b);
  if (op == "<") return ValueLess(a, b);
  if (op == ">") return ValueLess(b, a);
  if (op == "<=") {
    STRATA_ASSIGN_OR_RETURN(bool gt, ValueLess(b, a));
    return !gt;
  }
  if (op == ">=") {
    STRATA_ASSIGN_OR_RETURN(bool lt, ValueLess(a, b));
    return !lt;
  }
  return Status::Internal("unknown comparison '" + std::string(op) + "'");
}

Result<Value> GetAttr(const Value& obj, const std::string& name) {
  if (obj.is_undefined()) return UndefinedError(obj);
  if (obj.is_dict()) {
    if (const Value* v = obj.dict().Find(name)) return *v;
    return Value::Undefined(name);
  }
  return Value::Undefined(name);
}

Result<Value> GetItem(const Value& obj, const Value& key) {
  if (obj.is_undefined()) return UndefinedError(obj);
  if (obj.is_dict()) {
    if (key.is_string())
      if (const Value* v = obj.dict().Find(key.str())) return *v;
    return Value::Undefined(key.is_string() ? key.str() : key.Repr());
  }
  if ((obj.is_list() || obj.is_string()) && (key.is_int() || key.is_bool())) {
    int64_t i = key.int_value();
    if (obj.is_list()) {
      int64_t n = static_cast<int64_t>(obj.list().size());
      if (i < 0) i += n;
      if (i < 0 || i >= n) return Value::Undefined();
      return obj.list()[static_cast<size_t>(i)];
    }
    std::vector<size_t> offs = CodePointOffsets(obj.str());
    int64_t n = static_cast<int64_t>(offs.size()) - 1;
    if (i < 0) i += n;
    if (i < 0 || i >= n) return Value::Undefined();
    return Value::String(obj.str().substr(offs[i], offs[i + 1] - offs[i]));
  }
  return Value::Undefined(key.is_string() ? key.str() : "");
}

Result<Value> Slice(const Value& obj, const Value& start, const Value& stop, const Value& step) {
  if (obj.is_undefined()) return UndefinedError(obj);
  if (!obj.is_list() && !obj.is_string())
    return Status::InvalidArgument(std::string("'") + obj.TypeName() + "' object is not subscriptable");
  std::vector<size_t> offs;
  int64_t len = 0;
  if (obj.is_string()) {
    offs = CodePointOffsets(obj.str());
    len = static_cast<int64_t>(offs.size()) - 1;
  } else {
    len = static_cast<int64_t>(obj.list().size());
  }
  int64_t b = 0, e = 0, s = 1;
  STRATA_RETURN_IF_ERROR(SliceIndices(start, stop, step, len, b, e, s));
  std::string out_str;
  ValueList out_list;
  for (int64_t i = b; s > 0 ? i < e : i > e; i += s) {
    if (obj.is_string()) out_str += obj.str().substr(offs[i], offs[i + 1] - offs[i]);
    else out_list.push_back(obj.list()[static_cast<size_t>(i)]);
  }
  return obj.is_string() ? Value::String(std::move(out_str)) : Value::List(std::move(out_list));
}

Result<ValueList> Iterate(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kUndefined: return ValueList{};
    case Value::Kind::kList: return v.list();
    case Value::Kind::kDict: {
      ValueList keys;
      for (const auto& kv : v.dict().items) keys.push_back(Value::String(kv.first));
      return keys;
    }
    case Value::Kind::kString: {
      ValueList chars;
      std::vector<size_t> offs = CodePointOffsets(v.str());
      for (size_t i = 0; i + 1 < offs.size(); ++i)
        chars.push_back(Value::String(v.str().substr(offs[i], offs[i + 1] - offs[i])));
      return chars;
    }
    default: return Status::InvalidArgument(std::string("'") + v.TypeName() + "' object is not iterable");
  }
}

Result<int64_t> Length(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kUndefined: return int64_t{0};
    case Value::Kind::kString: return static_cast<int64_t>(CodePointCount(v.str()));
    case Value::Kind::kList: return static_cast<int64_t>(v.list().size());
    case Value::Kind::kDict: return static_cast<int64_t>(v.dict().items.size());
    default: return Status::InvalidArgument(std::string("object of type '") + v.TypeName() + "' has no len()");
  }
}

}  // namespace strata::jinja
