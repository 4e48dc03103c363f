#include "engine/number_range.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>

namespace strata {
namespace {

constexpr int kMaxPow = 36;

constexpr std::array<NumberUnits, kMaxPow + 1> MakePowers() {
  std::array<NumberUnits, kMaxPow + 1> p{};
  p[0] = 1;
  for (int i = 1; i <= kMaxPow; ++i) p[i] = p[i - 1] * 10;
  return p;
}
constexpr std::array<NumberUnits, kMaxPow + 1> kPow = MakePowers();
constexpr NumberUnits kSaturate = kPow[33];  // beyond any bound that matters (the largest value is 10^30 - 1)

NumberUnits Scale(bool integer) { return integer ? 1 : kPow[kNumberMaxDigits]; }
NumberUnits MaxUnits(bool integer) { return kPow[integer ? kNumberMaxDigits : 2 * kNumberMaxDigits] - 1; }

// The decimal `text` times 10^scale as an integer, rounded up or down when inexact, saturating at
// +-kSaturate. `exact` says whether no rounding happened. Returns false when `text` is not a JSON number.
bool ScaledDecimal(const std::string& text, int scale, bool round_up, NumberUnits& out, bool& exact) {
  size_t i = 0;
  const bool negative = i < text.size() && text[i] == '-';
  if (negative) ++i;
  NumberUnits m = 0;
  int64_t exp10 = scale;
  bool dropped = false, any_digit = false;
  auto digit = [&](int d, bool fraction) {
    any_digit = true;
    if (m < kSaturate) {
      m = m * 10 + d;
      if (fraction) --exp10;
    } else {
      if (!fraction) ++exp10;
      dropped = dropped || d != 0;
    }
  };
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) digit(text[i] - '0', false);
  if (i < text.size() && text[i] == '.')
    for (++i; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) digit(text[i] - '0', true);
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    const bool eneg = i < text.size() && text[i] == '-';
    if (i < text.size() && (text[i] == '-' || text[i] == '+')) ++i;
    int64_t e = 0;
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) e = std::min<int64_t>(e * 10 + (text[i] - '0'), 100000);
    exp10 += eneg ? -e : e;
  }
  if (!any_digit || i != text.size()) return false;
  NumberUnits q = m, r = 0;
  if (exp10 >= 0) {
    for (int64_t k = 0; k < exp10 && q != 0 && q < kSaturate; ++k) q *= 10;
    q = std::min(q, kSaturate);
  } else if (exp10 < -kMaxPow) {
    q = 0, r = m;
  } else {
    q = m / kPow[static_cast<size_t>(-exp10)], r = m % kPow[static_cast<size_t>(-exp10)];
  }
  exact = r == 0 && !dropped;
  // Inexact: the magnitude lies strictly between q and q + 1.
  if (!exact && round_up != negative) ++q;
  out = negative ? -q : q;
  return true;
}

int Digits(int64_t x) {
  int n = 1;
  while (x >= 10) x /= 10, ++n;
  return n;
}

// Is some multiple of g in [a, b] within [lo, hi]? (All non-negative.)
bool HasMultiple(NumberUnits g, NumberUnits a, NumberUnits b, NumberUnits lo, NumberUnits hi) {
  a = std::max(a, lo), b = std::min(b, hi);
  if (a > b) return false;
  return (a + g - 1) / g * g <= b;
}

// Costs of finishing with more integer digits (k of them) and then m fraction digits.
int64_t FinishInteger(const NumberRange& r, const NumberPrefix& p, NumberUnits lo, NumberUnits hi) {
  const NumberUnits s = Scale(r.integer);
  const int n = Digits(p.int_part);
  const int kmax = p.phase == NumberPrefix::kZero ? 0 : kNumberMaxDigits - n;
  int64_t best = kNumberNoFinish;
  for (int k = 0; k <= kmax && k < best; ++k) {
    const NumberUnits first = p.int_part * kPow[static_cast<size_t>(k)] * s;
    if (first > hi) break;  // `first` only grows with k: no longer completion can come back into range
    const NumberUnits end = (p.int_part + 1) * kPow[static_cast<size_t>(k)] * s;  // exclusive
    const int mmax = r.integer ? 0 : std::min(kNumberMaxDigits, kNumberMaxTotalDigits - n - k);
    for (int m = 0; m <= mmax; ++m) {
      const int64_t cost = k + (m > 0 ? m + 1 : 0);
      if (cost >= best) break;
      const NumberUnits g = kPow[static_cast<size_t>(kNumberMaxDigits - m)] / (r.integer ? kPow[kNumberMaxDigits] : 1);
      if (HasMultiple(g, first, end - g, lo, hi)) best = cost;
    }
  }
  return best;
}

int64_t FinishFraction(const NumberPrefix& p, NumberUnits lo, NumberUnits hi) {
  const NumberUnits s = kPow[kNumberMaxDigits];
  const int d = p.phase == NumberPrefix::kPoint ? 0 : p.frac_digits;
  const NumberUnits step = kPow[static_cast<size_t>(kNumberMaxDigits - d)];
  const NumberUnits first = p.int_part * s + p.frac * step, end = first + step;
  const int emax = std::min(kNumberMaxDigits, kNumberMaxTotalDigits - Digits(p.int_part)) - d;
  for (int e = p.phase == NumberPrefix::kPoint ? 1 : 0; e <= emax; ++e) {
    const NumberUnits g = kPow[static_cast<size_t>(kNumberMaxDigits - d - e)];
    if (HasMultiple(g, first, end - g, lo, hi)) return e;
  }
  return kNumberNoFinish;
}

}  // namespace

Result<NumberRange> MakeNumberRange(bool integer, const std::vector<NumberBound>& lower,
                                    const std::vector<NumberBound>& upper) {
  const int scale = integer ? 0 : kNumberMaxDigits;
  NumberRange r{.bounded = false, .integer = integer, .lo = -MaxUnits(integer), .hi = MaxUnits(integer)};
  for (bool is_lower : {true, false})
    for (const NumberBound& b : is_lower ? lower : upper) {
      NumberUnits v = 0;
      bool exact = false;
      if (!ScaledDecimal(b.decimal, scale, is_lower, v, exact))
        return Status::InvalidArgument("JSON schema bound '" + b.decimal + "' is not a number");
      if (b.exclusive && exact) v += is_lower ? 1 : -1;
      if (is_lower) r.lo = std::max(r.lo, v);
      else r.hi = std::min(r.hi, v);
    }
  if (r.lo > r.hi)
    return Status::InvalidArgument(std::string("JSON schema minimum/maximum leave no ") +
                                   (integer ? "integer" : "number") + " (of at most 15 digits) in range");
  // With an exponent (at most 2 digits) the matcher can write magnitudes up to about 1e114, so a bound counts
  // (and the exponent goes) unless it lies beyond that; 15 digits alone reach only 1e15, so clamping lo/hi to
  // them is not enough to tell (maximum 1e20 clamps to the 15-digit limit yet must forbid 9e99).
  auto within_reach = [](const NumberBound& b) { return std::fabs(std::strtod(b.decimal.c_str(), nullptr)) < 1e115; };
  r.bounded = std::any_of(lower.begin(), lower.end(), within_reach) ||
              std::any_of(upper.begin(), upper.end(), within_reach);
  return r;
}

int64_t MinBytesToFinish(const NumberRange& r, const NumberPrefix& p) {
  const NumberUnits lo = p.negative ? std::max<NumberUnits>(0, -r.hi) : std::max<NumberUnits>(0, r.lo);
  const NumberUnits hi = p.negative ? -r.lo : r.hi;
  if (lo > hi) return kNumberNoFinish;
  switch (p.phase) {
    case NumberPrefix::kStart: {
      int64_t best = kNumberNoFinish;
      for (int d = 0; d <= 9; ++d) {
        NumberPrefix next = p;
        next.phase = d == 0 ? NumberPrefix::kZero : NumberPrefix::kInt;
        next.int_part = d;
        best = std::min(best, 1 + MinBytesToFinish(r, next));
      }
      return std::min(best, kNumberNoFinish);
    }
    case NumberPrefix::kZero: case NumberPrefix::kInt: return FinishInteger(r, p, lo, hi);
    case NumberPrefix::kPoint: case NumberPrefix::kFrac: return r.integer ? kNumberNoFinish : FinishFraction(p, lo, hi);
  }
  return kNumberNoFinish;
}

bool AllowsNegative(const NumberRange& r) { return !r.bounded || r.lo < 0; }

int64_t MinNumberLength(const NumberRange& r) {
  if (!r.bounded) return 1;
  int64_t best = MinBytesToFinish(r, {});
  if (AllowsNegative(r)) best = std::min(best, 1 + MinBytesToFinish(r, {.negative = true}));
  return best;
}

}  // namespace strata
