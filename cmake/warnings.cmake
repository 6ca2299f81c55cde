# Project-wide warnings. -Werror is on by default (and always in CI); turn it off locally with
# -DCHROMAPACT_WERROR=OFF while iterating.
add_compile_options(-Wall -Wextra)
if(CHROMAPACT_WERROR)
  add_compile_options(-Werror)
endif()
