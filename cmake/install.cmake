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
# What a static libvkstyle.a needs linked after it (a shared libvkstyle.so names them itself).
set(VKSTYLE_PC_PRIVATE "")
if(NOT BUILD_SHARED_LIBS)
  set(VKSTYLE_PC_PRIVATE "Requires.private: jansson\nLibs.private:")
  foreach(lib ${CMAKE_DL_LIBS} m)
    string(APPEND VKSTYLE_PC_PRIVATE " -l${lib}")
  endforeach()
endif()
configure_file(cmake/vkstyle.pc.in ${PROJECT_BINARY_DIR}/vkstyle.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/vkstyle.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# The Python binding (python/vkstyle): into VKSTYLE_PYTHON_DIR under the prefix (default: the
# interpreter's own kind of folder, lib/pythonX.Y/dist-packages on Debian, site-packages
# elsewhere), with _install.py saying where the installed library and models are relative to
# it. A static build installs the binding's own libvkstyle.so inside the package.
if(VKSTYLE_PYTHON)
  if(NOT VKSTYLE_PYTHON_DIR)
    find_package(Python3 COMPONENTS Interpreter)
    if(Python3_Interpreter_FOUND)
      execute_process(COMMAND ${Python3_EXECUTABLE} -c
        "import os, sys, sysconfig; print('lib/python%d.%d/%s' % (*sys.version_info[:2], os.path.basename(sysconfig.get_path('purelib'))))"
        OUTPUT_VARIABLE py_dir OUTPUT_STRIP_TRAILING_WHITESPACE)
    endif()
  endif()
  set(VKSTYLE_PYTHON_DIR "${py_dir}" CACHE STRING "Where cmake --install puts the Python package vkstyle, relative to the prefix")
  if(NOT VKSTYLE_PYTHON_DIR)
    message(STATUS "No python3 found: the Python binding is not installed (set VKSTYLE_PYTHON_DIR)")
  else()
    cmake_path(ABSOLUTE_PATH VKSTYLE_PYTHON_DIR BASE_DIRECTORY ${CMAKE_INSTALL_PREFIX} OUTPUT_VARIABLE py_full)
    file(RELATIVE_PATH VKSTYLE_PY_LIBDIR ${py_full}/vkstyle ${CMAKE_INSTALL_FULL_LIBDIR})
    file(RELATIVE_PATH VKSTYLE_PY_MODELS ${py_full}/vkstyle ${VKSTYLE_MODELS_INSTALL_FULL_DIR})
    configure_file(cmake/vkstyle_install.py.in ${PROJECT_BINARY_DIR}/vkstyle_install.py @ONLY)
    install(FILES python/vkstyle/__init__.py DESTINATION ${VKSTYLE_PYTHON_DIR}/vkstyle)
    install(FILES ${PROJECT_BINARY_DIR}/vkstyle_install.py DESTINATION ${VKSTYLE_PYTHON_DIR}/vkstyle RENAME _install.py)
    if(TARGET vkstyle_python)
      install(TARGETS vkstyle_python LIBRARY DESTINATION ${VKSTYLE_PYTHON_DIR}/vkstyle)
    endif()
  endif()
endif()
