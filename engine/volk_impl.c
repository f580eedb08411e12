/* volk's implementation, compiled once into the engine (Debian ships it as a header-side .c). */
#include <volk.c>
