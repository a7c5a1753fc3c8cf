# The script registry: every Lua script of node/redis/scripts becomes a row of
# sr_scripts[] (name and text) and a constant SR_SCRIPT_<NAME> of enum
# sr_script, so adding a .lua file is all it takes to have it loaded.
#
# Every script is loaded with the "#!lua" shebang and no flags: Redis 7 then
# refuses, in cluster mode, a script touching keys of more than one hash slot
# (declared or not), which is what lets the store route a call by its first
# key. Scripts written without it would run in the compatibility mode that
# allows any key.
# Called as: cmake -DOUT=file.c -DHEADER=file.h -DINPUTS="a.lua|b.lua" -P embed.cmake
string(REPLACE "|" ";" INPUTS "${INPUTS}")
list(SORT INPUTS)
set(note "/* Generated from the Lua files in node/redis/scripts at build time. Do not edit. */\n")
set(body "${note}#include \"sr_scripts.h\"\n\nconst sr_script_source sr_scripts[SR_SCRIPT_COUNT] = {\n")
set(head "${note}#ifndef SR_SCRIPTS_H\n#define SR_SCRIPTS_H\n\nenum sr_script {\n")
foreach(path ${INPUTS})
    get_filename_component(name ${path} NAME_WE)
    string(TOUPPER ${name} upper)
    file(READ ${path} text)
    set(text "#!lua\n${text}")
    string(REPLACE "\\" "\\\\" text "${text}")
    string(REPLACE "\"" "\\\"" text "${text}")
    string(REPLACE "\n" "\\n\"\n     \"" text "${text}")
    string(APPEND body "    {\"${name}\",\n     \"${text}\"},\n")
    string(APPEND head "    SR_SCRIPT_${upper},\n")
endforeach()
string(APPEND body "};\n")
string(APPEND head "    SR_SCRIPT_COUNT\n};\n\ntypedef struct sr_script_source {\n    const char *name, *text;\n} sr_script_source;\nextern const sr_script_source sr_scripts[SR_SCRIPT_COUNT];\n\n#endif\n")
file(WRITE ${OUT} "${body}")
# Rewritten only when the list changes, so editing a script rebuilds one file.
if(EXISTS ${HEADER})
    file(READ ${HEADER} old)
endif()
if(NOT "${old}" STREQUAL "${head}")
    file(WRITE ${HEADER} "${head}")
endif()
