# Configures a scratch project that uses the real seatlock_add_test (taken from
# tests/CMakeLists.txt) with one source that is missing: the configure must fail and name it.
# A second scratch project with the source present must configure, so the check cannot pass
# because the extracted function is broken.
file(READ ${SEATLOCK_TESTS_CMAKELISTS} text)
string(FIND "${text}" "function(seatlock_add_test " begin)
if(begin EQUAL -1)
  message(FATAL_ERROR "seatlock_add_test not found in ${SEATLOCK_TESTS_CMAKELISTS}")
endif()
string(SUBSTRING "${text}" ${begin} -1 rest)
string(FIND "${rest}" "endfunction()" end)
math(EXPR end "${end} + 13")
string(SUBSTRING "${rest}" 0 ${end} function_text)

function(scratch_project dir with_source)
  file(REMOVE_RECURSE ${dir})
  file(MAKE_DIRECTORY ${dir})
  file(WRITE ${dir}/present_test.cpp "int main() { return 0; }\n")
  if(with_source)
    file(WRITE ${dir}/second_test.cpp "\n")
  endif()
  file(WRITE ${dir}/CMakeLists.txt
       "cmake_minimum_required(VERSION 3.25)\nproject(scratch LANGUAGES CXX)\n"
       "add_library(seatlock_catch_main INTERFACE)\n"
       "function(catch_discover_tests)\nendfunction()\n"
       "function(seatlock_discovered_test_properties)\nendfunction()\n"
       "${function_text}\n"
       "seatlock_add_test(scratch_tests SOURCES present_test.cpp second_test.cpp LABELS unit)\n")
endfunction()

scratch_project(${WORK_DIR}/with 1)
execute_process(COMMAND ${CMAKE_COMMAND} -S ${WORK_DIR}/with -B ${WORK_DIR}/with/build
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "the scratch project with every source did not configure:\n${out}${err}")
endif()

scratch_project(${WORK_DIR}/without 0)
execute_process(COMMAND ${CMAKE_COMMAND} -S ${WORK_DIR}/without -B ${WORK_DIR}/without/build
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc EQUAL 0)
  message(FATAL_ERROR "a missing test source configured without an error:\n${out}${err}")
endif()
if(NOT err MATCHES "missing test source" OR NOT err MATCHES "second_test.cpp")
  message(FATAL_ERROR "the configure error does not name the missing source:\n${err}")
endif()
message(STATUS "missing test source refused: ok")
