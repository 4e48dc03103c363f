// The JsonMatcher's byte steps. Each alternative is a stack of frames; a byte maps every stack to zero or
// more stacks (zero: that alternative is dead). Frames of objects, arrays and pending values use `b` as
// "one space already taken here".
#include "engine/json_matcher.h"

#include <algorithm>

namespace strata {
namespace {

using Kind = JsonGrammar::Kind;
using Frame = JsonMatcher::Frame;
using Stack = JsonMatcher::Stack;

enum Type : uint8_t { kValue, kLit, kStr, kNum, kObj, kArr };
enum Step { kReject, kTaken, kDone };
constexpr size_t kMaxDepth = 32;
constexpr int32_t kMaxDigits = 15, kMaxExpDigits = 2;  // 1e15 * 1e99 stays a finite double
constexpr int kMaxHops = 64;  // anyOf/$ref indirections while starting one value (guards ref cycles)
constexpr uint8_t kSpace = ' ';

void Feed(const JsonGrammar& g, Stack s, uint8_t c, std::vector<Stack>& out);

bool IsDigit(uint8_t c) { return c >= '0' && c <= '9'; }
bool IsHex(uint8_t c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// Strings: b packs the escape state (bits 0-3), pending UTF-8 continuation bytes (4-5) and the allowed range
// of the next continuation byte (8-10), so only text a strict JSON parser accepts gets through.
Step StrStep(const JsonGrammar::Node& n, Frame& f, uint8_t c) {
  int esc = f.b & 0xF, cont = (f.b >> 4) & 0x3, range = (f.b >> 8) & 0x7;
  auto pack = [&] { f.b = esc | (cont << 4) | (range << 8); };
  if (cont > 0) {
    static const uint8_t lo[] = {0x80, 0xA0, 0x80, 0x90, 0x80}, hi[] = {0xBF, 0xBF, 0x9F, 0xBF, 0x8F};
    if (c < lo[range] || c > hi[range]) return kReject;
    range = 0;
    if (--cont == 0) ++f.a;
    return pack(), kTaken;
  }
  if (esc == 1) {
    if (c == 'u') return esc = 2, pack(), kTaken;
    if (std::string_view("\"\\/bfnrt").find(static_cast<char>(c)) == std::string_view::npos) return kReject;
    return esc = 0, ++f.a, pack(), kTaken;
  }
  if (esc == 7) {  // after \ud: 0-7 keeps it below the surrogates (a lone surrogate is invalid JSON)
    if (c < '0' || c > '7') return kReject;
    return esc = 4, pack(), kTaken;
  }
  if (esc >= 2) {  // \uXXXX
    if (!IsHex(c)) return kReject;
    if (esc == 2 && (c == 'd' || c == 'D')) return esc = 7, pack(), kTaken;
    if (++esc == 6) esc = 0, ++f.a;
    return pack(), kTaken;
  }
  if (c == '"') return f.a >= n.min ? kDone : kReject;
  if (n.max >= 0 && f.a >= n.max) return kReject;
  if (c == '\\') return esc = 1, pack(), kTaken;
  if (c < 0x20) return kReject;
  if (c < 0x80) return ++f.a, kTaken;
  if (c >= 0xC2 && c <= 0xDF) cont = 1, range = 0;
  else if (c == 0xE0) cont = 2, range = 1;
  else if (c == 0xED) cont = 2, range = 2;
  else if (c >= 0xE1 && c <= 0xEF) cont = 2, range = 0;
  else if (c == 0xF0) cont = 3, range = 3;
  else if (c >= 0xF1 && c <= 0xF3) cont = 3, range = 0;
  else if (c == 0xF4) cont = 3, range = 4;
  else return kReject;
  return pack(), kTaken;
}

// Numbers: states 0 start, 1 after '-', 2 leading zero*, 3 integer digits*, 4 after '.', 5 fraction*,
// 6 after 'e', 7 after exponent sign, 8 exponent digits* (* = a number may end here). kDone means the byte
// belongs to whatever follows the number. `a` counts the digits of the current part, `b` is 1 after a '-',
// and for a bounded number (no exponent, at most kNumberMaxTotalDigits digits) `x` holds all its digits.
NumberPrefix Prefix(const Frame& f) {
  static constexpr NumberPrefix::Phase kPhase[] = {NumberPrefix::kStart, NumberPrefix::kStart, NumberPrefix::kZero,
                                                   NumberPrefix::kInt, NumberPrefix::kPoint, NumberPrefix::kFrac};
  const int frac_digits = f.state == 5 ? f.a : 0;
  uint64_t scale = 1;
  for (int i = 0; i < frac_digits; ++i) scale *= 10;
  return {.phase = kPhase[std::min<uint8_t>(f.state, 5)], .negative = f.b == 1,
          .int_part = static_cast<int64_t>(f.x / scale), .frac = static_cast<int64_t>(f.x % scale),
          .frac_digits = frac_digits};
}

bool NumAccepting(const JsonGrammar::Node& n, const Frame& f) {
  if (n.range.bounded) return f.state <= 5 && MinBytesToFinish(n.range, Prefix(f)) == 0;
  return f.state == 2 || f.state == 3 || f.state == 5 || f.state == 8;
}

// The syntax of a number, digit limits included; NumStep adds the bounds.
Step NumSyntaxStep(const JsonGrammar::Node& n, Frame& f, uint8_t c) {
  const bool integer = n.kind == Kind::kInteger;
  auto go = [&](uint8_t state, bool digit) {
    f.a = f.state == state && digit ? f.a + 1 : (digit ? 1 : 0);
    f.state = state;
    // At most kNumberMaxTotalDigits + 1 digits reach here (NumStep refuses more): no overflow of uint64.
    if (digit && n.range.bounded) f.x = f.x * 10 + (c - '0');
    return kTaken;
  };
  switch (f.state) {
    case 0:
      if (c == '-' && AllowsNegative(n.range)) return f.b = 1, go(1, false);
      [[fallthrough]];
    case 1:
      if (c == '0') return go(2, true);
      if (IsDigit(c)) return go(3, true);
      return kReject;
    case 2: case 3: case 5:
      if (f.state == 3 && IsDigit(c)) return f.a < kMaxDigits ? go(3, true) : kReject;
      if (f.state == 5 && IsDigit(c)) return f.a < kMaxDigits ? go(5, true) : kReject;
      if (!integer && c == '.' && f.state != 5) return go(4, false);
      if (!integer && !n.range.bounded && (c == 'e' || c == 'E')) return go(6, false);
      return IsDigit(c) ? kReject : kDone;
    case 4:
      return IsDigit(c) ? go(5, true) : kReject;
    case 6:
      if (c == '+' || c == '-') return go(7, false);
      [[fallthrough]];
    case 7:
      return IsDigit(c) ? go(8, true) : kReject;
    case 8:
      if (IsDigit(c)) return f.a < kMaxExpDigits ? go(8, true) : kReject;
      return kDone;
  }
  return kReject;
}

// A bounded number takes a byte only if some completion is in range, and ends only in range.
Step NumStep(const JsonGrammar::Node& n, Frame& f, uint8_t c) {
  if (!n.range.bounded) return NumSyntaxStep(n, f, c);
  const Frame before = f;
  const Step st = NumSyntaxStep(n, f, c);
  if (st == kDone) return NumAccepting(n, before) ? kDone : kReject;
  if (st == kTaken && MinBytesToFinish(n.range, Prefix(f)) >= kNumberNoFinish) return f = before, kReject;
  return st;
}

// Starts a value of grammar node `node` whose first byte is c.
void Begin(const JsonGrammar& g, Stack s, int32_t node, uint8_t c, std::vector<Stack>& out, int hops = 0) {
  const JsonGrammar::Node& n = g.node(node);
  if (hops > kMaxHops) return;
  switch (n.kind) {
    case Kind::kAnyOf:
      for (int32_t alt : n.alts) Begin(g, s, alt, c, out, hops + 1);
      return;
    case Kind::kLiterals:
      for (int32_t lit : n.alts) {
        Stack t = s;
        t.push_back({kLit, 0, lit, 0, 0});
        Feed(g, std::move(t), c, out);
      }
      return;
    case Kind::kString:
      if (c == '"') s.push_back({kStr, 0, node, 0, 0}), out.push_back(std::move(s));
      return;
    case Kind::kNumber: case Kind::kInteger:
      s.push_back({kNum, 0, node, 0, 0});
      return Feed(g, std::move(s), c, out);
    case Kind::kObject:
      if (c == '{' && s.size() < kMaxDepth) s.push_back({kObj, 0, node, 0, 0}), out.push_back(std::move(s));
      return;
    case Kind::kArray:
      if (c == '[' && s.size() < kMaxDepth) s.push_back({kArr, 0, node, 0, 0}), out.push_back(std::move(s));
      return;
    case Kind::kAny:
      if (c == '{') return Begin(g, std::move(s), g.any_object(), c, out, hops + 1);
      if (c == '[') return Begin(g, std::move(s), g.any_array(), c, out, hops + 1);
      if (c == '"') return Begin(g, std::move(s), g.any_string(), c, out, hops + 1);
      if (c == '-' || IsDigit(c)) return Begin(g, std::move(s), g.any_number(), c, out, hops + 1);
      return Begin(g, std::move(s), g.json_keywords(), c, out, hops + 1);
  }
}

// Properties still allowed from index `next`: up to and including the first required one.
bool CanClose(const JsonGrammar::Node& n, int32_t next) {
  for (size_t j = static_cast<size_t>(next); j < n.props.size(); ++j)
    if (n.props[j].required) return false;
  return true;
}

// One space may come wherever an object or array frame is on top: after '{' '[' ',' ':' a key or a value.
bool TakeSpace(Stack& s, uint8_t c, std::vector<Stack>& out) {
  Frame& f = s.back();
  if (c != kSpace) return f.b = 0, false;
  if (f.b == 0) f.b = 1, out.push_back(std::move(s));
  return true;
}

void ObjStep(const JsonGrammar& g, Stack s, uint8_t c, std::vector<Stack>& out) {
  if (TakeSpace(s, c, out)) return;
  Frame& f = s.back();
  const JsonGrammar::Node& n = g.node(f.node);
  const bool expect_key = f.state == 0 || f.state == 3;
  if (expect_key) {
    if (c == '}' && f.state == 0 && (n.free_keys || CanClose(n, f.a))) return s.pop_back(), out.push_back(std::move(s));
    if (n.free_keys) {
      if (c == '"') f.state = 1, s.push_back({kStr, 0, g.any_string(), 0, 0}), out.push_back(std::move(s));
      return;
    }
    for (size_t j = static_cast<size_t>(f.a); j < n.props.size(); ++j) {
      Stack t = s;
      t.back().state = 1;
      t.back().a = static_cast<int32_t>(j + 1);
      t.push_back({kLit, 0, n.props[j].key, 0, 0});
      Feed(g, std::move(t), c, out);
      if (n.props[j].required) break;
    }
    return;
  }
  if (f.state == 1) {
    if (c != ':') return;
    f.state = 2;
    const int32_t value = n.free_keys ? n.item : n.props[static_cast<size_t>(f.a - 1)].value;
    s.push_back({kValue, 0, value, 0, 0});
    return out.push_back(std::move(s));
  }
  if (c == ',' && (n.free_keys || static_cast<size_t>(f.a) < n.props.size())) return f.state = 3, out.push_back(std::move(s));
  if (c == '}' && (n.free_keys || CanClose(n, f.a))) return s.pop_back(), out.push_back(std::move(s));
}

void ArrStep(const JsonGrammar& g, Stack s, uint8_t c, std::vector<Stack>& out) {
  if (TakeSpace(s, c, out)) return;
  Frame& f = s.back();
  const JsonGrammar::Node& n = g.node(f.node);
  if (f.state == 2) {  // after an item
    if (c == ',' && (n.max < 0 || f.a < n.max)) return f.state = 3, out.push_back(std::move(s));
    if (c == ']' && f.a >= n.min) return s.pop_back(), out.push_back(std::move(s));
    return;
  }
  if (f.state == 0 && c == ']') {
    if (n.min == 0) s.pop_back(), out.push_back(std::move(s));
    return;
  }
  if (f.state == 0 && n.max == 0) return;
  f.state = 2;
  ++f.a;
  const int32_t item = n.item;
  Begin(g, std::move(s), item, c, out);
}

void Feed(const JsonGrammar& g, Stack s, uint8_t c, std::vector<Stack>& out) {
  if (s.empty()) return;  // the document is complete: nothing may follow
  Frame& f = s.back();
  switch (f.type) {
    case kValue: {  // a value not started yet; one space may come first, except before the whole document
      if (c == kSpace) {
        if (f.b == 0 && s.size() > 1) f.b = 1, out.push_back(std::move(s));
        return;
      }
      const int32_t node = f.node;
      s.pop_back();
      return Begin(g, std::move(s), node, c, out);
    }
    case kLit: {
      const std::string& lit = g.literal(f.node);
      if (static_cast<uint8_t>(lit[static_cast<size_t>(f.a)]) != c) return;
      if (static_cast<size_t>(++f.a) == lit.size()) s.pop_back();
      return out.push_back(std::move(s));
    }
    case kStr: {
      const Step st = StrStep(g.node(f.node), f, c);
      if (st == kDone) s.pop_back();
      if (st != kReject) out.push_back(std::move(s));
      return;
    }
    case kNum: {
      const Step st = NumStep(g.node(f.node), f, c);
      if (st == kTaken) return out.push_back(std::move(s));
      if (st == kDone) return s.pop_back(), Feed(g, std::move(s), c, out);
      return;
    }
    case kObj:
      return ObjStep(g, std::move(s), c, out);
    case kArr:
      return ArrStep(g, std::move(s), c, out);
  }
}

bool SameStack(const Stack& a, const Stack& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const Frame& x, const Frame& y) {
    return x.type == y.type && x.state == y.state && x.node == y.node && x.a == y.a && x.b == y.b && x.x == y.x;
  });
}

}  // namespace

JsonMatcher::JsonMatcher(std::shared_ptr<const JsonGrammar> g) : g_(std::move(g)) {
  stacks_.push_back({{kValue, 0, g_->root(), 0, 0}});
}

// The hot path of mask computation: one alternative inside a string, literal or number changes only its top
// frame, in place. Returns false when the general path must decide.
bool JsonMatcher::FastStep(uint8_t c, bool& accepted) {
  if (stacks_.size() != 1 || stacks_[0].empty()) return false;
  Stack& s = stacks_[0];
  Frame f = s.back();
  const JsonGrammar::Node& n = g_->node(f.node);
  Step st = kReject;
  switch (f.type) {
    case kStr: st = StrStep(n, f, c); break;
    case kNum: st = NumStep(n, f, c); if (st == kDone) return false; break;
    case kLit: {
      const std::string& lit = g_->literal(f.node);
      if (static_cast<uint8_t>(lit[static_cast<size_t>(f.a)]) == c)
        st = static_cast<size_t>(++f.a) == lit.size() ? kDone : kTaken;
      break;
    }
    default: return false;
  }
  accepted = st != kReject;
  if (st == kTaken) s.back() = f;
  if (st == kDone) s.pop_back();
  return true;
}

bool JsonMatcher::AcceptByte(uint8_t c) {
  if (bool accepted = false; FastStep(c, accepted)) return accepted;
  std::vector<Stack> next;
  for (const Stack& s : stacks_) Feed(*g_, s, c, next);
  if (next.empty()) return false;
  // Alternatives that converged to the same state are one; past kMaxStacks the rest are dropped, which only
  // narrows what may follow (every kept stack is still a valid prefix).
  std::vector<Stack> unique;
  for (Stack& s : next)
    if (unique.size() < kMaxStacks &&
        std::none_of(unique.begin(), unique.end(), [&](const Stack& u) { return SameStack(u, s); }))
      unique.push_back(std::move(s));
  stacks_ = std::move(unique);
  return true;
}

bool JsonMatcher::Accept(std::string_view bytes) {
  const std::vector<Stack> saved = stacks_;
  for (char ch : bytes)
    if (!AcceptByte(static_cast<uint8_t>(ch))) {
      stacks_ = saved;
      return false;
    }
  return true;
}

bool JsonMatcher::IsComplete() const {
  for (const Stack& s : stacks_)
    if (s.empty() || (s.size() == 1 && s[0].type == kNum && NumAccepting(g_->node(s[0].node), s[0]))) return true;
  return false;
}

bool JsonMatcher::IsDead() const {
  return std::all_of(stacks_.begin(), stacks_.end(), [](const Stack& s) { return s.empty(); });
}

}  // namespace strata

namespace strata {
namespace {

// Bytes still needed by one frame: a leaf to finish itself, a container to close once its child is done.
int64_t FrameCost(const JsonGrammar& g, const Frame& f) {
  const JsonGrammar::Node& n = g.node(f.node);
  switch (f.type) {
    case kValue: return g.min_len(f.node);
    case kLit: return static_cast<int64_t>(g.literal(f.node).size()) - f.a;
    case kNum: return n.range.bounded ? MinBytesToFinish(n.range, Prefix(f)) : NumAccepting(n, f) ? 0 : 1;
    case kStr: {
      const int esc = f.b & 0xF, cont = (f.b >> 4) & 0x3;
      const int64_t pending = esc == 1 ? 1 : (esc >= 2 && esc <= 5) ? 6 - esc : esc == 7 ? 3 : cont;
      return pending + std::max<int64_t>(0, n.min - (f.a + (pending > 0 ? 1 : 0))) + 1;
    }
    case kObj: {
      if (n.free_keys) return f.state == 3 ? 3 + g.min_len(n.item) + 1 : f.state == 1 ? 1 + g.min_len(n.item) + 1 : 1;
      if (f.state == 0) return g.RequiredRest(f.node, f.a, false) + 1;
      if (f.state == 1) {
        const int32_t value = n.props[static_cast<size_t>(f.a - 1)].value;
        return 1 + g.min_len(value) + g.RequiredRest(f.node, f.a, true) + 1;
      }
      if (f.state == 2) return g.RequiredRest(f.node, f.a, true) + 1;
      int64_t rest = g.RequiredRest(f.node, f.a, false);
      if (rest == 0) {
        rest = int64_t{1} << 40;
        for (size_t j = static_cast<size_t>(f.a); j < n.props.size(); ++j)
          rest = std::min(rest, static_cast<int64_t>(g.literal(n.props[j].key).size()) + 1 + g.min_len(n.props[j].value));
      }
      return rest + 1;
    }
    case kArr: {
      const int64_t item = g.min_len(n.item);
      if (f.state == 0) return n.min == 0 ? 1 : n.min * (item + 1);
      if (f.state == 2) return std::max<int64_t>(0, n.min - f.a) * (1 + item) + 1;
      const int64_t k = std::max<int64_t>(1, n.min - f.a);
      return k * (item + 1);
    }
  }
  return 0;
}

}  // namespace

int64_t JsonMatcher::MinBytesToComplete() const {
  int64_t best = int64_t{1} << 40;
  for (const Stack& s : stacks_) {
    int64_t cost = 0;
    for (const Frame& f : s) cost += FrameCost(*g_, f);
    best = std::min(best, cost);
  }
  return best;
}

}  // namespace strata
