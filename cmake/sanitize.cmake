# ASan + UBSan for the dynamic build (sanitizers refuse -static, see shared build notes).
if(CHROMAPACT_SANITIZE)
  if(CHROMAPACT_STATIC)
    message(FATAL_ERROR "CHROMAPACT_SANITIZE and CHROMAPACT_STATIC cannot be combined")
  endif()
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
