// Python semantics of the operators a template can apply: arithmetic, ~ concatenation, comparisons, `in`,
// subscripts, slices, attribute lookup and iteration, including jinja2's rules for undefined values.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"
#include "model/jinja/value.h"

namespace strata::jinja {

// Bounds that keep a hostile template from exhausting memory: results above them are errors.
constexpr size_t kMaxStringBytes = 64u << 20;
constexpr size_t kMaxListItems = 1u << 20;

// The error jinja2 raises when an undefined value is used as an operand.
Status UndefinedError(const Value& undefined);

// + - * / // % ** and ~.
Result<Value> BinaryOp(std::string_view op, const Value& a, const Value& b);
// == != < <= > >= in, not in.
Result<bool> CompareOp(std::string_view op, const Value& a, const Value& b);
// `item in container`.
Result<bool> Contains(const Value& container, const Value& item);
// obj.name: a dict key (or namespace attribute); undefined when absent; an error on an undefined object.
Result<Value> GetAttr(const Value& obj, const std::string& name);
// obj[key]: list / string index (negative from the end), dict key; undefined when absent.
Result<Value> GetItem(const Value& obj, const Value& key);
// obj[start:stop:step] on a list or string; absent bounds are undefined values.
Result<Value> Slice(const Value& obj, const Value& start, const Value& stop, const Value& step);
// The items a for loop visits: list items, dict keys, string characters; undefined gives none.
Result<ValueList> Iterate(const Value& v);
// Python's len(): code points of a string, items of a list or dict; 0 for undefined.
Result<int64_t> Length(const Value& v);

}  // namespace strata::jinja
