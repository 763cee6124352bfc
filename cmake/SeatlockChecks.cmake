# `ninja tidy`: clang-tidy with the root .clang-tidy over agent/ and collector/, the same run
# scripts/test.sh makes after the build (scripts/check_tidy.sh; compile_commands.json).
add_custom_target(tidy
  COMMAND bash ${PROJECT_SOURCE_DIR}/scripts/check_tidy.sh ${CMAKE_BINARY_DIR}
  WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
  USES_TERMINAL VERBATIM
  COMMENT "clang-tidy (.clang-tidy) over agent/ and collector/")
