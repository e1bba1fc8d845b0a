# Fails unless README.md contains tests/consumer/readme_example.cpp verbatim (as a ```cpp block).
file(READ "${README}" readme)
file(READ "${EXAMPLE}" example)
string(FIND "${readme}" "```cpp\n${example}```" position)
if(position EQUAL -1)
  message(FATAL_ERROR "README.md does not contain ${EXAMPLE} verbatim; update the README's usage example")
endif()
message(STATUS "README usage example matches ${EXAMPLE}")
