// Built from one translation unit per public header (see tests/CMakeLists.txt): if this
// program links, every header compiled on its own, twice included.
#include <cstdio>

int main() {
  std::printf("%d public headers compiled standalone\n", TINYNET_HEADER_COUNT);
  return TINYNET_HEADER_COUNT > 20 ? 0 : 1;
}
