// Template variables from JSON (chat messages, tools, --var values): the Python objects json.loads would give
// the template, with object key order kept (tojson and items() print in that order, as Python's dicts do).
#pragma once

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "model/jinja/value.h"

namespace strata::jinja {

// Nesting deeper than this is refused: conversion recurses, and real messages are a few levels deep.
inline constexpr int kMaxJsonValueDepth = 64;

// null -> None, true/false -> bool, integers -> int (an unsigned one above INT64_MAX is refused rather than
// rounded), floats -> float, strings, arrays -> list, objects -> dict.
Result<Value> ValueFromJson(const nlohmann::ordered_json& json);

}  // namespace strata::jinja
