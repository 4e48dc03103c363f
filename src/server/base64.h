// Standard base64 (RFC 4648, with padding): how OpenAI's API sends embeddings with encoding_format "base64"
// (the little-endian float32 bytes), which clients decode into a Float32Array or numpy array.
#pragma once

#include <string>
#include <string_view>

namespace strata {

std::string Base64Encode(std::string_view bytes);

}  // namespace strata
