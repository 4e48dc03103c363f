// Reads a built-in's arguments the way a Python signature binds them: by position or by keyword, with a
// fallback when absent, and an error for arguments the built-in does not take.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "model/jinja/value.h"

namespace strata::jinja {

class ArgReader {
 public:
  ArgReader(std::string_view function, const CallArgs& args) : function_(function), args_(args) {
    used_.assign(args.keyword.size(), false);
  }

  // The argument at positional `index` or keyword `name`; `fallback` when the caller passed neither.
  Value Get(size_t index, std::string_view name, Value fallback = Value()) {
    if (index + 1 > accepted_) accepted_ = index + 1;
    if (index < args_.positional.size()) return args_.positional[index];
    for (size_t i = 0; i < args_.keyword.size(); ++i) {
      if (args_.keyword[i].first == name) {
        used_[i] = true;
        return args_.keyword[i].second;
      }
    }
    return fallback;
  }

  bool HasPositional(size_t index) const { return index < args_.positional.size(); }

  // An optional string argument (None and absent give nullopt).
  Result<std::optional<std::string>> GetOptionalString(size_t index, std::string_view name) {
    Value v = Get(index, name);
    if (v.is_undefined() || v.is_none()) return std::optional<std::string>();
    if (!v.is_string()) return TypeError(name, "a string");
    return std::optional<std::string>(v.str());
  }

  Result<int64_t> GetInt(size_t index, std::string_view name, int64_t fallback) {
    Value v = Get(index, name);
    if (v.is_undefined()) return fallback;
    if (!v.is_int() && !v.is_bool()) return TypeError(name, "an integer");
    return v.int_value();
  }

  // Fails when the call passed more positional arguments, or keywords, than were read.
  Status Finish() const {
    if (args_.positional.size() > accepted_)
      return Status::InvalidArgument(std::string(function_) + "() takes at most " + std::to_string(accepted_) +
                                     " argument(s), " + std::to_string(args_.positional.size()) + " given");
    for (size_t i = 0; i < used_.size(); ++i)
      if (!used_[i])
        return Status::InvalidArgument(std::string(function_) + "() got an unexpected keyword argument '" +
                                       args_.keyword[i].first + "'");
    return Status::Ok();
  }

  Status TypeError(std::string_view name, std::string_view expected) const {
    return Status::InvalidArgument(std::string(function_) + "(): argument '" + std::string(name) + "' must be " +
                                   std::string(expected));
  }

 private:
  std::string_view function_;
  const CallArgs& args_;
  std::vector<bool> used_;
  size_t accepted_ = 0;
};

}  // namespace strata::jinja
