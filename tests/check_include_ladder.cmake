# Fails unless the include graph of include/tinynet runs down this ladder of folders.
# Usage: cmake -DINCLUDE_DIR=<repo>/include -P tests/check_include_ladder.cmake
#
# Rungs, lowest first. A header may include headers of its own rung or of a lower one, never
# of a higher one:
#   0  core
#   1  backend      backend/ (dispatch and shared-type headers), backend/cpu/, backend/cudnn/
#   2  layers       Sequential included (a composite layer: Residual wraps one)
#   3  losses optim testing
#   4  data io      checkpoints know layers and optimizers; data readers use io's file helpers
#   5  model distributed
#   6  training
#   7  tinynet.hpp  the umbrella header
# Inside the rungs:
# - backend/cpu/ and backend/cudnn/ are siblings: neither includes the other, and from backend/
#   they include only shared-type headers (those that include nothing from backend/cpu/ or
#   backend/cudnn/, e.g. conv_geometry.hpp), never a dispatch header;
# - only backend/ reaches into backend/cpu/ and backend/cudnn/: everything above goes through a
#   dispatch header (backend/*.hpp);
# - a layer includes another layer only when it is a composite (it includes layers/composite.hpp
#   or another composite, as Residual includes Sequential); the layer infrastructure
#   (layer, composite, parameter_set, initializers) is open to all.
# A folder that is on no rung is an error too: place it on the ladder above.
cmake_minimum_required(VERSION 3.16)  # script mode: IN_LIST and the other current policies
set(rung_core 0)
set(rung_backend 1)
set(rung_layers 2)
set(rung_losses 3)
set(rung_optim 3)
set(rung_testing 3)
set(rung_data 4)
set(rung_io 4)
set(rung_model 5)
set(rung_distributed 5)
set(rung_training 6)
set(rung_. 7)

if(NOT IS_DIRECTORY "${INCLUDE_DIR}/tinynet")
  message(FATAL_ERROR "check_include_ladder: no tinynet/ under INCLUDE_DIR='${INCLUDE_DIR}'")
endif()
file(GLOB_RECURSE headers RELATIVE "${INCLUDE_DIR}" "${INCLUDE_DIR}/tinynet/*.hpp" "${INCLUDE_DIR}/tinynet/*.cu")

# folder_of(path out): tinynet/backend/cpu/gemm.hpp -> backend/cpu; tinynet/tinynet.hpp -> "."
function(folder_of path out)
  get_filename_component(dir "${path}" DIRECTORY)
  string(REGEX REPLACE "^tinynet/?" "" dir "${dir}")
  if(dir STREQUAL "")
    set(dir ".")
  endif()
  set(${out} "${dir}" PARENT_SCOPE)
endfunction()

# The tinynet headers each file includes, and which backend/ headers are dispatch headers.
set(dispatch_headers "")
foreach(header IN LISTS headers)
  file(STRINGS "${INCLUDE_DIR}/${header}" lines REGEX "^[ \t]*#[ \t]*include[ \t]*[<\"]tinynet/")
  set(targets "")
  foreach(line IN LISTS lines)
    string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]*[<\"](tinynet/[^>\"]+)[>\"].*$" "\\1" target "${line}")
    list(APPEND targets "${target}")
    if(target MATCHES "^tinynet/backend/(cpu|cudnn)/")
      list(APPEND dispatch_headers "${header}")
    endif()
  endforeach()
  set(includes_of_${header} "${targets}")
endforeach()

# Composite layers: those including layers/composite.hpp, or a composite, transitively.
set(composites "tinynet/layers/composite.hpp")
set(grown TRUE)
while(grown)
  set(grown FALSE)
  foreach(header IN LISTS headers)
    if(header MATCHES "^tinynet/layers/" AND NOT header IN_LIST composites)
      foreach(target IN LISTS includes_of_${header})
        if(target IN_LIST composites)
          list(APPEND composites "${header}")
          set(grown TRUE)
          break()
        endif()
      endforeach()
    endif()
  endforeach()
endwhile()
set(layer_infrastructure tinynet/layers/layer.hpp tinynet/layers/composite.hpp tinynet/layers/parameter_set.hpp
    tinynet/layers/initializers.hpp)

set(errors "")
set(arrows 0)
# add_error(part...): one error, the parts joined.
macro(add_error)
  string(CONCAT error_text ${ARGN})
  list(APPEND errors "${error_text}")
endmacro()
foreach(header IN LISTS headers)
  folder_of("${header}" from)
  string(REGEX REPLACE "/.*" "" from_top "${from}")
  if(NOT DEFINED rung_${from_top})
    add_error("${header}: folder '${from}' is on no rung of the ladder")
    continue()
  endif()
  foreach(target IN LISTS includes_of_${header})
    math(EXPR arrows "${arrows} + 1")
    folder_of("${target}" to)
    string(REGEX REPLACE "/.*" "" to_top "${to}")
    if(NOT DEFINED rung_${to_top})
      add_error("${header} includes ${target}: folder '${to}' is on no rung of the ladder")
    elseif(rung_${to_top} GREATER rung_${from_top})
      add_error("${header} includes ${target}: '${from}' (rung ${rung_${from_top}}) may not include "
              "'${to}' (rung ${rung_${to_top}})")
    endif()
    if(to MATCHES "^backend/(cpu|cudnn)$" AND NOT from MATCHES "^backend")
      add_error("${header} includes ${target}: only backend/ reaches into a backend: include the "
                "dispatch header in backend/ instead")
    endif()
    if(from STREQUAL "layers" AND to STREQUAL "layers" AND NOT header IN_LIST composites
       AND NOT target IN_LIST layer_infrastructure)
      add_error("${header} includes ${target}: a layer that is not a composite includes no other layer")
    endif()
    if(from MATCHES "^backend/(cpu|cudnn)$")
      if(to MATCHES "^backend/(cpu|cudnn)$" AND NOT to STREQUAL from)
        add_error("${header} includes ${target}: backend/cpu and backend/cudnn never include each other "
                  "(lift the shared part into a backend/ header)")
      elseif(to STREQUAL "backend" AND target IN_LIST dispatch_headers)
        add_error("${header} includes ${target}: a backend includes only shared-type headers from "
                  "backend/, not a dispatch header")
      endif()
    endif()
  endforeach()
endforeach()

list(LENGTH headers header_count)
list(LENGTH errors error_count)
if(error_count GREATER 0)
  string(REPLACE ";" "\n  " error_lines "${errors}")
  message(FATAL_ERROR "include ladder: ${error_count} arrow(s) out of order (see tests/check_include_ladder.cmake):\n"
                      "  ${error_lines}")
endif()
message(STATUS "include ladder: ${header_count} files, ${arrows} includes of tinynet headers, all down the ladder")
