# Writes a C++ file defining `const unsigned char SYMBOL[]` (the bytes of INPUT, then a NUL) and
# `const std::size_t SYMBOL_size` (without the NUL), so the binary carries the file and needs nothing beside it
# at run time. CMake only: no xxd, no download. Run as a build step:
#   cmake -DINPUT=page.html -DOUTPUT=page.cpp -DSYMBOL=kPage -DNAMESPACE=strata::webui_data -P embed_file.cmake
foreach(var INPUT OUTPUT SYMBOL NAMESPACE)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "embed_file.cmake: -D${var}=... is required")
  endif()
endforeach()

file(READ "${INPUT}" hex HEX)
string(LENGTH "${hex}" hex_length)
math(EXPR size "${hex_length} / 2")
# 16 bytes (32 hex digits) a line, each byte as 0xNN. CMake's regexes have no {n}, hence the repeat.
string(REPEAT "[0-9a-f]" 32 line_pattern)
string(REGEX REPLACE "(${line_pattern})" "\\1\n" hex "${hex}")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
get_filename_component(name "${INPUT}" NAME)

file(WRITE "${OUTPUT}" "// Generated at build time from ${name} by embed_file.cmake: edit ${name}, not this file.
#include <cstddef>

namespace ${NAMESPACE} {

extern const unsigned char ${SYMBOL}[] = {
${bytes}
0x00};
extern const std::size_t ${SYMBOL}_size = ${size};

}  // namespace ${NAMESPACE}
")
