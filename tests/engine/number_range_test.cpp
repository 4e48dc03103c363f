// minimum / maximum on "integer" and "number", checked against brute force: over every number string up to a
// few digits (and every prefix of one), the matcher accepts a prefix exactly when some completion lies in
// range, accepts a whole number exactly when it is in range, and its MinBytesToComplete is the shortest such
// completion. Also the range arithmetic itself and schemas with no number in range.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>

#include "engine/json_grammar.h"
#include "engine/json_matcher.h"
#include "engine/number_range.h"
#include "engine/token_mask.h"

namespace strata {
namespace {

using ojson = nlohmann::ordered_json;

// JSON number strings with up to `int_digits` integer and `frac_digits` fraction digits, either sign.
std::vector<std::string> Numbers(int int_digits, int frac_digits) {
  std::vector<std::string> ints = {"0"};
  for (int n = 1, lo = 1; n <= int_digits; ++n, lo *= 10)
    for (int v = lo; v < lo * 10; ++v) ints.push_back(std::to_string(v));
  std::vector<std::string> out;
  for (const std::string& i : ints) {
    std::vector<std::string> fracs = {""};
    for (int d = 1, count = 10; d <= frac_digits; ++d, count *= 10)
      for (int v = 0; v < count; ++v) {
        std::string f = std::to_string(v);
        fracs.push_back("." + std::string(static_cast<size_t>(d) - f.size(), '0') + f);
      }
    for (const std::string& f : fracs)
      for (const char* sign : {"", "-"}) out.push_back(sign + i + f);
  }
  return out;
}

// Value in hundredths (every string here has at most 2 fraction digits).
int64_t Hundredths(const std::string& s) {
  const bool neg = s[0] == '-';
  const std::string body = s.substr(neg ? 1 : 0);
  const size_t dot = body.find('.');
  int64_t v = std::stoll(body.substr(0, dot)) * 100;
  if (dot != std::string::npos) {
    std::string f = body.substr(dot + 1);
    f.resize(2, '0');
    v += std::stoll(f);
  }
  return neg ? -v : v;
}

struct Case {
  const char* schema;
  int64_t lo, hi;  // inclusive, in hundredths
};

// Compares the matcher with the enumeration for one bounded schema.
void CheckAgainstBruteForce(const Case& c, const std::vector<std::string>& all) {
  auto g = JsonGrammar::FromSchema(ojson::parse(c.schema));
  ASSERT_TRUE(g.ok()) << c.schema << ": " << g.status().message();
  const bool integer = std::string(c.schema).find("integer") != std::string::npos;
  // A '-' only starts a number when some negative value is in range ("-0" is not offered for a minimum of 0).
  auto in_range = [&](const std::string& s) {
    const int64_t v = Hundredths(s);
    return v >= c.lo && v <= c.hi && (s[0] != '-' || c.lo < 0) && (!integer || s.find('.') == std::string::npos);
  };
  std::map<std::string, int64_t> shortest;  // prefix -> fewest bytes to an in-range completion
  for (const std::string& s : all) {
    if (!in_range(s)) continue;
    for (size_t n = 0; n <= s.size(); ++n) {
      auto [it, fresh] = shortest.emplace(s.substr(0, n), static_cast<int64_t>(s.size() - n));
      if (!fresh) it->second = std::min<int64_t>(it->second, static_cast<int64_t>(s.size() - n));
    }
  }
  std::set<std::string> prefixes;
  for (const std::string& s : all)
    for (size_t n = 0; n <= s.size(); ++n) prefixes.insert(s.substr(0, n));
  for (const std::string& p : prefixes) {
    JsonMatcher m(*g);
    const bool accepted = m.Accept(p);
    const auto it = shortest.find(p);
    ASSERT_EQ(accepted, it != shortest.end()) << c.schema << " prefix '" << p << "'";
    if (!accepted) continue;
    EXPECT_EQ(m.MinBytesToComplete(), it->second) << c.schema << " prefix '" << p << "'";
    if (!p.empty() && p != "-") {
      EXPECT_EQ(m.IsComplete(), it->second == 0) << c.schema << " '" << p << "'";
    }
  }
}

TEST(NumberRange, IntegersMatchBruteForce) {
  const std::vector<std::string> all = Numbers(4, 0);
  const Case cases[] = {
      {R"({"type":"integer","minimum":10,"maximum":20})", 1000, 2000},
      {R"({"type":"integer","minimum":-15,"maximum":7})", -1500, 700},
      {R"({"type":"integer","minimum":-120,"maximum":-95})", -12000, -9500},
      {R"({"type":"integer","minimum":0,"maximum":0})", 0, 0},
      {R"({"type":"integer","minimum":5,"maximum":5})", 500, 500},
      {R"({"type":"integer","exclusiveMinimum":99,"exclusiveMaximum":1000})", 10000, 99900},
      {R"({"type":"integer","minimum":2.5,"maximum":31.9})", 300, 3100},
      {R"({"type":"integer","minimum":7,"maximum":700,"exclusiveMinimum":true})", 800, 70000},
      {R"({"type":"integer","minimum":150})", 15000, 999900},  // the enumeration stops at 4 digits
  };
  for (const Case& c : cases) CheckAgainstBruteForce(c, all);
}

TEST(NumberRange, NumbersMatchBruteForce) {
  const std::vector<std::string> all = Numbers(2, 2);
  const Case cases[] = {
      {R"({"type":"number","minimum":0.5,"maximum":0.75})", 50, 75},
      {R"({"type":"number","minimum":-1.25,"maximum":3})", -125, 300},
      {R"({"type":"number","minimum":0.01,"exclusiveMaximum":0.1})", 1, 9},
      {R"({"type":"number","minimum":10,"exclusiveMaximum":12.5})", 1000, 1249},
      {R"({"type":"number","minimum":-0.05,"maximum":-0.01})", -5, -1},
      {R"({"type":"number","minimum":0,"maximum":0})", 0, 0},
  };
  for (const Case& c : cases) CheckAgainstBruteForce(c, all);
}

TEST(NumberRange, ExponentsOnlyWithoutBounds) {
  auto bounded = JsonGrammar::FromSchema(ojson::parse(R"({"type":"number","minimum":0,"maximum":1e6})"));
  ASSERT_TRUE(bounded.ok());
  EXPECT_FALSE(JsonMatcher(*bounded).Accept("1e"));
  auto free = JsonGrammar::FromSchema(ojson::parse(R"({"type":"number"})"));
  ASSERT_TRUE(free.ok());
  EXPECT_TRUE(JsonMatcher(*free).Accept("1e5"));
  // A bound beyond 15 digits but within an exponent's reach still forbids the exponent (9e99 > 1e20).
  for (const char* schema : {R"({"type":"number","maximum":1e20})", R"({"type":"number","exclusiveMaximum":1e15})",
                             R"({"type":"number","minimum":-1e20})"}) {
    auto g = JsonGrammar::FromSchema(ojson::parse(schema));
    ASSERT_TRUE(g.ok()) << schema;
    EXPECT_FALSE(JsonMatcher(*g).Accept("9e")) << schema;
    EXPECT_FALSE(JsonMatcher(*g).Accept("-9e")) << schema;
  }
  // Bounds no written number reaches (15 digits and a 2-digit exponent) are no bounds at all: exponents stay.
  auto wide = JsonGrammar::FromSchema(ojson::parse(R"({"type":"number","minimum":-1e300,"maximum":1e300})"));
  ASSERT_TRUE(wide.ok());
  EXPECT_TRUE(JsonMatcher(*wide).Accept("1e5"));
}

TEST(NumberRange, ShortestNumberAndTheBoundsAtFifteenDigits) {
  auto r = MakeNumberRange(true, {{"100"}}, {{"200"}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(MinNumberLength(*r), 3);
  auto neg = MakeNumberRange(true, {{"-50"}}, {{"-40"}});
  ASSERT_TRUE(neg.ok());
  EXPECT_EQ(MinNumberLength(*neg), 3);
  auto tiny = MakeNumberRange(false, {{"0", true}}, {{"1e-15"}});
  ASSERT_TRUE(tiny.ok());
  EXPECT_EQ(MinNumberLength(*tiny), 17);  // 0.000000000000001
  auto big = MakeNumberRange(true, {{"999999999999999"}}, {});
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(MinNumberLength(*big), 15);
  auto g = JsonGrammar::FromSchema(ojson::parse(R"({"type":"number","exclusiveMinimum":0,"maximum":1e-15})"));
  ASSERT_TRUE(g.ok());
  JsonMatcher m(*g);
  EXPECT_TRUE(m.Accept("0.000000000000001"));
  EXPECT_TRUE(m.IsComplete());
}

TEST(NumberRange, EmptyRangesAreSchemaErrors) {
  for (const char* schema : {R"({"type":"integer","minimum":5,"maximum":4})",
                             R"({"type":"integer","minimum":1.2,"maximum":1.8})",
                             R"({"type":"number","exclusiveMinimum":1,"exclusiveMaximum":1})",
                             R"({"type":"integer","minimum":1e20})",
                             R"({"type":"number","maximum":-1e16})",
                             R"({"type":"number","minimum":"3"})"}) {
    auto g = JsonGrammar::FromSchema(ojson::parse(schema));
    ASSERT_FALSE(g.ok()) << schema;
    EXPECT_EQ(g.status().code(), Status::Code::kInvalidArgument) << schema;
  }
  auto g = JsonGrammar::FromSchema(ojson::parse(R"({"type":"integer","minimum":5,"maximum":4})"));
  EXPECT_NE(g.status().message().find("minimum"), std::string::npos) << g.status().message();
  // Bounds without a numeric type would have to let every other value through: refused, not ignored.
  auto untyped = JsonGrammar::FromSchema(ojson::parse(R"({"minimum":5})"));
  ASSERT_FALSE(untyped.ok());
  EXPECT_EQ(untyped.status().code(), Status::Code::kUnsupported);
}

TEST(NumberRange, BoundedValuesInsideObjectsCostTheirDigits) {
  auto g = JsonGrammar::FromSchema(
      ojson::parse(R"({"type":"object","properties":{"n":{"type":"integer","minimum":1000,"maximum":2000}},"required":["n"]})"));
  ASSERT_TRUE(g.ok());
  EXPECT_EQ((*g)->min_len((*g)->root()), static_cast<int64_t>(std::string(R"({"n":1000})").size()));
  JsonMatcher m(*g);
  ASSERT_TRUE(m.Accept(R"({"n":1)"));
  EXPECT_EQ(m.MinBytesToComplete(), 4);  // 000}
  EXPECT_FALSE(m.Accept("}"));
  EXPECT_TRUE(m.Accept("999}"));
  EXPECT_TRUE(m.IsComplete());
  JsonMatcher two(*g);
  ASSERT_TRUE(two.Accept(R"({"n":2)"));
  EXPECT_FALSE(two.Accept("1"));  // 21xx > 2000
  EXPECT_TRUE(two.Accept("000"));
  EXPECT_FALSE(two.Accept("0"));  // 20000
  EXPECT_TRUE(two.Accept("}"));
}

// The token mask with a budget over bounded numbers: random walks (EOS token 0) always end, within the budget,
// in a document whose number is in range; the budget forces closing as early as the range allows.
TEST(NumberRange, BudgetedRandomWalksEndInRange) {
  std::vector<std::string> vocab = {"", ".", "-", "-1", "0.", ".5", "00", "10", "12", "99", "e", "1e5", "{\"n\":", "}",
                                    "{\"n\":1", " ", ","};
  for (char c = '0'; c <= '9'; ++c) vocab.push_back(std::string(1, c));
  const TokenTrie trie(vocab);
  struct Walk {
    const char* schema;
    double lo, hi;
    bool lo_open, hi_open;
  };
  const Walk walks[] = {
      {R"({"type":"integer","minimum":10,"maximum":20})", 10, 20, false, false},
      {R"({"type":"number","minimum":-2.5,"exclusiveMaximum":-1})", -2.5, -1, false, true},
      {R"({"type":"number","exclusiveMinimum":0,"maximum":0.001})", 0, 0.001, true, false},
      {R"({"type":"object","properties":{"n":{"type":"integer","minimum":1000,"maximum":2000}},"required":["n"]})", 1000,
       2000, false, false},
  };
  for (const Walk& w : walks) {
    auto g = JsonGrammar::FromSchema(ojson::parse(w.schema));
    ASSERT_TRUE(g.ok()) << w.schema;
    for (uint32_t seed = 0; seed < 200; ++seed) {
      std::mt19937 rng(seed);
      const int budget = 8 + static_cast<int>(seed % 10);
      JsonMatcher m(*g);
      std::string text;
      std::vector<uint8_t> allowed;
      int steps = 0;
      for (; steps < budget; ++steps) {
        ComputeTokenMask(m, trie, 0, allowed, budget - steps);
        std::vector<int32_t> choices;
        for (size_t i = 1; i < allowed.size(); ++i)
          if (allowed[i]) choices.push_back(static_cast<int32_t>(i));
        if (allowed[0] && (choices.empty() || rng() % 3 == 0)) break;
        ASSERT_FALSE(choices.empty()) << w.schema << " dead end after " << text;
        const std::string& piece = vocab[static_cast<size_t>(choices[rng() % choices.size()])];
        ASSERT_TRUE(m.Accept(piece));
        text += piece;
      }
      ASSERT_TRUE(m.IsComplete()) << w.schema << " budget " << budget << ": " << text;
      const ojson doc = ojson::parse(text, nullptr, false);
      ASSERT_FALSE(doc.is_discarded()) << text;
      const double v = doc.is_object() ? doc["n"].get<double>() : doc.get<double>();
      EXPECT_TRUE(w.lo_open ? v > w.lo : v >= w.lo) << w.schema << ": " << text;
      EXPECT_TRUE(w.hi_open ? v < w.hi : v <= w.hi) << w.schema << ": " << text;
    }
  }
}

}  // namespace
}  // namespace strata
