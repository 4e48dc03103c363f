// UTF-8 validation and the streaming decoder that turns token bytes into whole characters. Invalid bytes
// become U+FFFD one byte at a time, as sentencepiece's decoder does.
#include <cstdint>
#include <string>
#include <string_view>

#include "model/tokenizer.h"

namespace strata {
namespace {


bool IsTrail(uint8_t b) { return (b & 0xC0) == 0x80; }

// Bytes a character with this lead byte needs; 0 for a byte that can't start a well-formed character.
size_t NeededLength(uint8_t lead) {
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return 2;
  if (lead >= 0xE0 && lead <= 0xEF) return 3;
  if (lead >= 0xF0 && lead <= 0xF4) return 4;
  return 0;
}

// Range of the byte after `lead` (it excludes overlong forms, surrogates and code points above U+10FFFF).
bool SecondByteOk(uint8_t lead, uint8_t b) {
  switch (lead) {
    case 0xE0: return b >= 0xA0 && b <= 0xBF;
    case 0xED: return b >= 0x80 && b <= 0x9F;
    case 0xF0: return b >= 0x90 && b <= 0xBF;
    case 0xF4: return b >= 0x80 && b <= 0x8F;
    default: return IsTrail(b);
  }
}

// True when `s` is shorter than the character its lead byte announces and every byte so far fits: more bytes
// could still complete it.
bool IsIncompleteCharacter(std::string_view s) {
  if (s.empty()) return false;
  const auto lead = static_cast<uint8_t>(s[0]);
  const size_t need = NeededLength(lead);
  if (need <= 1 || s.size() >= need) return false;
  for (size_t i = 1; i < s.size(); ++i) {
    const auto b = static_cast<uint8_t>(s[i]);
    if (i == 1 ? !SecondByteOk(lead, b) : !IsTrail(b)) return false;
  }
  return true;
}

// Appends `s` to `out` with every byte that doesn't belong to a well-formed character replaced by U+FFFD.
// When `hold_incomplete`, stops before a trailing incomplete character and returns where it stopped.
size_t AppendValid(std::string_view s, bool hold_incomplete, std::string& out) {
  size_t i = 0;
  while (i < s.size()) {
    const std::string_view rest = s.substr(i);
    const size_t n = Utf8CharLength(rest);
    if (n > 0) {
      out.append(rest.substr(0, n));
      i += n;
    } else if (hold_incomplete && IsIncompleteCharacter(rest)) {
      break;
    } else {
      out.append(kReplacementChar);
      ++i;
    }
  }
  return i;
}

}  // namespace

size_t Utf8CharLength(std::string_view s) {
  if (s.empty()) return 0;
  const auto lead = static_cast<uint8_t>(s[0]);
  const size_t need = NeededLength(lead);
  if (need == 0 || s.size() < need) return 0;
  if (need >= 2 && !SecondByteOk(lead, static_cast<uint8_t>(s[1]))) return 0;
  for (size_t i = 2; i < need; ++i)
    if (!IsTrail(static_cast<uint8_t>(s[i]))) return 0;
  return need;
}

std::string Utf8StreamDecoder::Push(std::string_view bytes) {
  pending_.append(bytes);
  std::string out;
  const size_t used = AppendValid(pending_, /*hold_incomplete=*/true, out);
  pending_.erase(0, used);
  return out;
}

std::string Utf8StreamDecoder::Flush() {
  std::string out;
  AppendValid(pending_, /*hold_incomplete=*/false, out);
  pending_.clear();
  return out;
}

}  // namespace strata
