/* The library's version: project(VERSION) in CMakeLists.txt, passed in by engine/CMakeLists.txt. */
#include "vkstyle/vkstyle.h"

const char *vks_version_string(void) { return VKS_VERSION; }
