# Finds what the build needs; each failure says which Debian package provides the piece.
find_path(VT_CBLAS_INCLUDE cblas.h PATHS /usr/include/x86_64-linux-gnu /usr/include/aarch64-linux-gnu /usr/include/openblas)
find_library(VT_OPENBLAS_LIBRARY NAMES openblas)
if(NOT VT_CBLAS_INCLUDE OR NOT VT_OPENBLAS_LIBRARY)
  message(FATAL_ERROR "OpenBLAS not found: apt-get install libopenblas-dev")
endif()

# The CUDA backend: AUTO turns it on when the CUDA toolkit (nvcc, cudart) is installed.
if(VT_CUDA STREQUAL "AUTO")
  find_package(CUDAToolkit QUIET)
  set(VT_WITH_CUDA ${CUDAToolkit_FOUND})
elseif(VT_CUDA)
  find_package(CUDAToolkit REQUIRED)
  set(VT_WITH_CUDA ON)
else()
  set(VT_WITH_CUDA OFF)
endif()
message(STATUS "vibetensor: CUDA backend ${VT_WITH_CUDA}")

if(VT_NODE)
  message(FATAL_ERROR "VT_NODE: the Node.js addon is not part of the build yet")
endif()

# The safetensors header parser's JSON (header-only).
find_package(nlohmann_json 3.10 QUIET)
if(NOT nlohmann_json_FOUND)
  message(FATAL_ERROR "nlohmann-json not found: apt-get install nlohmann-json3-dev")
endif()
