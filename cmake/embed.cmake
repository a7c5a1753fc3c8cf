# Turns each Lua script into a C string constant: sr_lua_<name>.
# Called as: cmake -DOUT=file.c -DINPUTS="a.lua|b.lua" -P embed.cmake
string(REPLACE "|" ";" INPUTS "${INPUTS}")
set(body "/* Generated from the Lua files in node/scripts at build time. Do not edit. */\n")
foreach(path ${INPUTS})
    get_filename_component(name ${path} NAME_WE)
    file(READ ${path} text)
    string(REPLACE "\\" "\\\\" text "${text}")
    string(REPLACE "\"" "\\\"" text "${text}")
    string(REPLACE "\n" "\\n\"\n    \"" text "${text}")
    string(APPEND body "const char sr_lua_${name}[] =\n    \"${text}\";\n")
endforeach()
file(WRITE ${OUT} "${body}")
