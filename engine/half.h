/* IEEE 754 binary16 <-> binary32. */
#ifndef VKS_HALF_H
#define VKS_HALF_H
#include <stdint.h>

/* Exact. NaN payloads and infinities are kept. */
float vks_half_to_float(uint16_t h);
/* Round to nearest even; magnitudes that round past 65504 become infinity. */
uint16_t vks_float_to_half(float f);

#endif
