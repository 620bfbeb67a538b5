# Writes the shell completions and the man page by running the freshly built tsfleet, so they
# are generated from the CLI definition and cannot drift from --help.
#   cmake -DTSFLEET=<binary> -DOUT=<dir> -P gen_shell_files.cmake
cmake_minimum_required(VERSION 3.25)
file(MAKE_DIRECTORY ${OUT})
function(generate name)
  execute_process(COMMAND ${TSFLEET} -q ${ARGN} OUTPUT_FILE ${OUT}/${name} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "tsfleet ${ARGN} failed (${rc})")
  endif()
endfunction()
generate(tsfleet.bash completion bash)
generate(_tsfleet completion zsh)
generate(tsfleet.fish completion fish)
generate(tsfleet.1 manpage)
