// Bounds (minimum / maximum / exclusiveMinimum / exclusiveMaximum) on the numbers a JsonMatcher lets a model
// write, enforced digit by digit: a byte is allowed only if some completion of the digits written so far is a
// number in range. Values are exact decimals: integers in units of 1, numbers in units of 10^-15 (the matcher
// writes at most 15 integer and 15 fraction digits; a bounded "number" has no exponent part and at most 18
// digits in all, which keeps the matcher's state one integer), so there is no rounding in the comparisons.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace strata {

using NumberUnits = __int128;

inline constexpr int kNumberMaxDigits = 15;                    // per part (integer, fraction)
inline constexpr int kNumberMaxTotalDigits = 18;               // of a bounded number, both parts
inline constexpr int64_t kNumberNoFinish = int64_t{1} << 40;   // no completion is in range

struct NumberBound {
  std::string decimal;  // a JSON number as text, e.g. "10", "-0.5", "1e+300"
  bool exclusive = false;
};

struct NumberRange {
  bool bounded = false;   // false: any number the grammar's digit limits allow
  bool integer = false;   // units of 1, else of 10^-15
  NumberUnits lo = 0, hi = 0;  // inclusive
};

// The range of values within all lower and upper bounds. An empty range (e.g. minimum > maximum, or an integer
// range with no integer in it) is kInvalidArgument.
Result<NumberRange> MakeNumberRange(bool integer, const std::vector<NumberBound>& lower,
                                    const std::vector<NumberBound>& upper);

// What a matcher knows of a number being written.
struct NumberPrefix {
  enum Phase : uint8_t { kStart, kZero, kInt, kPoint, kFrac };  // kZero: a leading 0; kPoint: after '.'
  Phase phase = kStart;
  bool negative = false;
  int64_t int_part = 0, frac = 0;  // digits so far, as integers
  int frac_digits = 0;
};

// Fewest bytes that finish `p` as a number in range (0: it may end here), or kNumberNoFinish.
int64_t MinBytesToFinish(const NumberRange& r, const NumberPrefix& p);
// Whether a '-' may start a number: some negative value is in range.
bool AllowsNegative(const NumberRange& r);
// Fewest bytes of any number in range (sign included).
int64_t MinNumberLength(const NumberRange& r);

}  // namespace strata
