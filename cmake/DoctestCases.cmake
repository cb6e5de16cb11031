# Run after a test binary is built (see sonae_test): lists its doctest cases and writes a CTest
# script that registers each as its own test, "<binary>: <case>", with the binary's labels and
# timeout. Arguments: TEST_EXECUTABLE, TEST_NAME, TEST_LABELS (comma-separated), TEST_TIMEOUT,
# CTEST_FILE.
execute_process(
  COMMAND "${TEST_EXECUTABLE}" --list-test-cases --no-version=true
  OUTPUT_VARIABLE output
  RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "${TEST_EXECUTABLE} --list-test-cases failed (${result}):\n${output}")
endif()
if(output MATCHES ";")
  message(FATAL_ERROR "${TEST_NAME}: a test case name contains ';', which CTest cannot carry")
endif()
string(REPLACE "," ";" labels "${TEST_LABELS}")
string(REPLACE "\n" ";" lines "${output}")
set(script "")
foreach(line IN LISTS lines)
  if(line STREQUAL "" OR line MATCHES "^===" OR line MATCHES "^\\[doctest\\]")
    continue()
  endif()
  # doctest splits filters on commas; a backslash keeps one literal.
  string(REPLACE "," "\\," filter "${line}")
  string(APPEND script
    "add_test([==[${TEST_NAME}: ${line}]==] [==[${TEST_EXECUTABLE}]==] [==[--test-case=${filter}]==])\n"
    "set_tests_properties([==[${TEST_NAME}: ${line}]==] PROPERTIES LABELS [==[${labels}]==] TIMEOUT ${TEST_TIMEOUT})\n")
endforeach()
file(WRITE "${CTEST_FILE}" "${script}")
