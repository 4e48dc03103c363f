#include "server/webui.h"

#include <cstddef>

namespace strata {

namespace webui_data {
// Defined in the file the build generates from webui/index.html (see src/server/CMakeLists.txt).
extern const unsigned char kIndexHtml[];
extern const std::size_t kIndexHtml_size;
}  // namespace webui_data

std::string_view WebUiPage() {
  return {reinterpret_cast<const char*>(webui_data::kIndexHtml), webui_data::kIndexHtml_size};
}

}  // namespace strata
