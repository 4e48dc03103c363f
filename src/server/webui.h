// The web chat page `strata serve` shows at / (webui/index.html): one self-contained HTML file, compiled into
// the binary at build time (webui/embed_file.cmake), that talks only to this server's own OpenAI endpoints.
#pragma once

#include <string_view>

namespace strata {

// The page's HTML (UTF-8), valid for the life of the program.
std::string_view WebUiPage();

// Response headers for the page. The Content-Security-Policy lets it load nothing from another host (no scripts,
// styles, fonts or images; fetches only to this origin): the browser itself then holds the page to "talks only
// to this server", and markup that slipped through the page's Markdown renderer could not send a conversation
// elsewhere. Inline script and style stay allowed, as the page is one file.
inline constexpr const char* kWebUiContentType = "text/html; charset=utf-8";
inline constexpr const char* kWebUiContentSecurityPolicy =
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

}  // namespace strata
