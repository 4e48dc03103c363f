# Precompiled headers: most of a translation unit's compile time here is parsing the same big headers (the
# standard library, nlohmann/json, spdlog, GoogleTest, CLI11) again; one precompiled copy per target
# parses them once (not cpp-httplib: see src/router/CMakeLists.txt). STRATA_PCH=OFF builds without (to check that every file includes what it uses).
option(STRATA_PCH "Precompile the common headers of each target" ON)
# Unity builds: the files of a target each instantiate the same json and GoogleTest templates, compiled
# (and optimised) once per batch of 8 files instead of once per file. Anonymous-namespace helpers of one batch
# share a scope: a file whose helpers would collide keeps them in a namespace named for it.
option(STRATA_UNITY "Compile each target in batches of files (unity builds)" ON)

set(STRATA_PCH_STD <algorithm> <atomic> <chrono> <cmath> <cstdint> <cstdio> <cstring> <filesystem> <fstream>
    <functional> <map> <memory> <mutex> <optional> <span> <sstream> <string> <string_view> <thread>
    <unordered_map> <utility> <vector>)

# strata_pch(TARGET [HEADER...]): the standard headers, nlohmann/json and spdlog, plus the given ones; and the
# target compiled as a unity build when STRATA_UNITY is on.
function(strata_pch target)
  if(STRATA_PCH)
    target_precompile_headers(${target} PRIVATE ${STRATA_PCH_STD} <nlohmann/json.hpp> <spdlog/spdlog.h> ${ARGN})
  endif()
  set_target_properties(${target} PROPERTIES UNITY_BUILD ${STRATA_UNITY} UNITY_BUILD_BATCH_SIZE 8)
endfunction()
