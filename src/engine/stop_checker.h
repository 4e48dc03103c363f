// Stop strings over streamed text: holds back any tail that could still become a stop string, so a stream
// never shows part of one; on a match the text is cut right before it and everything after is dropped.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace strata {

class StopChecker {
 public:
  explicit StopChecker(std::vector<std::string> stops);
  // Adds text; returns what is safe to emit now.
  std::string Push(std::string_view text);
  // At the end: returns what was held back (nothing after a match).
  std::string Flush();
  bool stopped() const { return stopped_; }
  const std::string& matched() const { return matched_; }

 private:
  std::vector<std::string> stops_;
  std::string pending_;
  bool stopped_ = false;
  std::string matched_;
};

}  // namespace strata
