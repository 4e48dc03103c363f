// Python's printf-style string formatting (`"%s: %5.2f" % (a, b)`), which jinja2's |format filter is: the
// conversions s r d i u f F e E g G x X o and %%, with the flags - + space 0 and # (not for o), width and
// precision. Mapping keys (%(name)s), * widths, %c and %a give kUnsupported; a wrong argument count or type
// gives Python's TypeError as kInvalidArgument.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"
#include "model/jinja/value.h"

namespace strata::jinja {

Result<std::string> PercentFormat(std::string_view format, const ValueList& args);

}  // namespace strata::jinja
