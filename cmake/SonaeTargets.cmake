# Helpers so that every library and test is declared the same way.

# sonae_library(NAME SOURCES... [DEPS ...]) -> target sonae_NAME with include/ public.
function(sonae_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(sonae_${name} STATIC ${ARG_SOURCES})
  target_include_directories(sonae_${name} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include)
  target_link_libraries(sonae_${name} PUBLIC ${ARG_DEPS} PRIVATE sonae_options sonae_warnings ${ARG_PRIVATE_DEPS})
  target_compile_features(sonae_${name} PUBLIC cxx_std_20)
  if(SONAE_SANITIZE)
    target_link_libraries(sonae_${name} INTERFACE sonae_options)
  endif()
endfunction()

# sonae_test(NAME LABEL SOURCES... DEPS... [LABELS extra...] [TIMEOUT s]) -> a doctest binary
# whose every test case is a CTest test of its own ("NAME: case"), labelled LABEL (unit,
# component, integration, fault) plus LABELS (e.g. concurrency: also run under TSan).
function(sonae_test name label)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;DEPS;LABELS" ${ARGN})
  if(NOT SONAE_BUILD_TESTS)
    return()
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} doctest::doctest sonae_options sonae_warnings)
  target_compile_definitions(${name} PRIVATE
    SONAE_SOURCE_DIR="${PROJECT_SOURCE_DIR}" SONAE_BINARY_DIR="${PROJECT_BINARY_DIR}")
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  set(labels ${label} ${ARG_LABELS})
  list(JOIN labels "," labels)
  set(ctest_file ${CMAKE_CURRENT_BINARY_DIR}/${name}_cases.cmake)
  add_custom_command(TARGET ${name} POST_BUILD
    COMMAND ${CMAKE_COMMAND} -D TEST_EXECUTABLE=$<TARGET_FILE:${name}> -D TEST_NAME=${name}
            "-D TEST_LABELS=${labels}" -D TEST_TIMEOUT=${ARG_TIMEOUT} -D CTEST_FILE=${ctest_file}
            -P ${PROJECT_SOURCE_DIR}/cmake/DoctestCases.cmake
    VERBATIM)
  # Binaries not built in this tree (the TSan tree builds a few) simply register nothing.
  set(include_file ${CMAKE_CURRENT_BINARY_DIR}/${name}_include.cmake)
  file(WRITE ${include_file} "if(EXISTS \"${ctest_file}\")\n  include(\"${ctest_file}\")\nendif()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${include_file})
endfunction()
