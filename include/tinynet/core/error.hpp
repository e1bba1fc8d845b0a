// tinynet/core/error.hpp: the one exception type of the library.
//
// Every failure tinynet detects (bad shapes, unreadable files, corrupt weights,
// misuse of the API) is reported as tinynet::Error. The message always names the
// operation and the values at fault, e.g.
//   "Conv2D 'conv1': input has 4 channels, layer was built for 3 (input shape [8,4,32,32])".
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace tinynet {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

namespace detail {
inline void append_all(std::ostringstream&) {}
template <class First, class... Rest>
void append_all(std::ostringstream& os, First&& first, Rest&&... rest) {
  os << std::forward<First>(first);
  append_all(os, std::forward<Rest>(rest)...);
}
}  // namespace detail

// ensures: the pieces are streamed into one message; throws tinynet::Error with it.
template <class... Pieces>
[[noreturn]] void fail(Pieces&&... pieces) {
  std::ostringstream os;
  detail::append_all(os, std::forward<Pieces>(pieces)...);
  throw Error(os.str());
}

// ensures: throws tinynet::Error(message built from pieces) when !condition.
template <class... Pieces>
void check(bool condition, Pieces&&... pieces) {
  if (!condition) fail(std::forward<Pieces>(pieces)...);
}

}  // namespace tinynet
