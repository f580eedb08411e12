# cmake --install: the headers, libvkstyle (static, or shared with -DBUILD_SHARED_LIBS=ON), the
# vkstyle command, the models, the CMake package (find_package(vkstyle): vkstyle::vkstyle),
# vkstyle.pc and the Python binding. Every path is relative to the prefix, so
# `cmake --install build --prefix P` works for any P (tests/test_install.sh does that).
include(CMakePackageConfigHelpers)
set(cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/vkstyle)

install(TARGETS vkstyle EXPORT vkstyleTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY include/vkstyle DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS vkstyle_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
file(GLOB models CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/models/*.safetensors)
install(FILES ${models} models/LICENSE.ml5 models/README.md DESTINATION ${VKSTYLE_MODELS_INSTALL_DIR})

# CMake package
install(EXPORT vkstyleTargets NAMESPACE vkstyle:: DESTINATION ${cmake_dir})
if(BUILD_SHARED_LIBS)
  set(VKSTYLE_STATIC FALSE)
else()
  set(VKSTYLE_STATIC TRUE)
endif()
configure_package_config_file(cmake/vkstyleConfig.cmake.in ${PROJECT_BINARY_DIR}/vkstyleConfig.cmake
  INSTALL_DESTINATION ${cmake_dir} PATH_VARS VKSTYLE_MODELS_INSTALL_DIR)
# 0.x: a minor release may break the API (as the SONAME says), so only the same minor matches.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/vkstyleConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/vkstyleConfig.cmake ${PROJECT_BINARY_DIR}/vkstyleConfigVersion.cmake
  DESTINATION ${cmake_dir})

# pkg-config: prefix relative to the .pc file's folder (${pcfiledir}), unless a folder is absolute.
function(vkstyle_pc_dir var dir)
  if(IS_ABSOLUTE "${dir}")
    set(${var} "${dir}" PARENT_SCOPE)
  else()
    set(${var} "\${prefix}/${dir}" PARENT_SCOPE)
  endif()
endfunction()
file(RELATIVE_PATH pc_up ${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig ${CMAKE_INSTALL_PREFIX})
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(VKSTYLE_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
  string(REGEX REPLACE "/$" "" pc_up "\${pcfiledir}/${pc_up}")
  set(VKSTYLE_PC_PREFIX "${pc_up}")
endif()
vkstyle_pc_dir(VKSTYLE_PC_LIBDIR ${CMAKE_INSTALL_LIBDIR})
vkstyle_pc_dir(VKSTYLE_PC_INCLUDEDIR ${CMAKE_INSTALL_INCLUDEDIR})
vkstyle_pc_dir(VKSTYLE_PC_MODELSDIR ${VKSTYLE_MODELS_INSTALL_DIR})
set(VKSTYLE_PC_LIBS_PRIVATE "")
foreach(lib ${CMAKE_DL_LIBS} m)
  string(APPEND VKSTYLE_PC_LIBS_PRIVATE " -l${lib}")
endforeach()
string(STRIP "${VKSTYLE_PC_LIBS_PRIVATE}" VKSTYLE_PC_LIBS_PRIVATE)
configure_file(cmake/vkstyle.pc.in ${PROJECT_BINARY_DIR}/vkstyle.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/vkstyle.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
