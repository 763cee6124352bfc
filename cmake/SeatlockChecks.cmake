# `ninja tidy`: clang-tidy with the root .clang-tidy over the project's own translation units
# (compile_commands.json; generated and third-party files are not in it). Optional: not built by
# default and not run by scripts/test.sh yet.
find_program(SEATLOCK_RUN_CLANG_TIDY NAMES run-clang-tidy run-clang-tidy-14)
if(SEATLOCK_RUN_CLANG_TIDY)
  add_custom_target(tidy
    COMMAND ${SEATLOCK_RUN_CLANG_TIDY} -quiet -p ${CMAKE_BINARY_DIR}
            "${PROJECT_SOURCE_DIR}/(agent|collector|tests|bench)/"
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
    USES_TERMINAL VERBATIM
    COMMENT "clang-tidy (.clang-tidy) over the project's sources")
else()
  add_custom_target(tidy
    COMMAND ${CMAKE_COMMAND} -E echo "tidy: run-clang-tidy not found (apt-get install clang-tidy)"
    COMMAND ${CMAKE_COMMAND} -E false)
endif()
