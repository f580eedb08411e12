// Shared by every shader: the config constants, the activation storage type and activations.
#include "config.h"

// Activation tensors are stored as `vtype`: float, or float16_t in the fp16 variant of a shader
// (built with -DVKS_F16=1 for sources marked `// vks:variant f16`, see cmake/shaders.cmake).
// Arithmetic stays fp32 in both: loads convert with float(), stores with vtype(), so
// normalization statistics are always accumulated in fp32.
#ifdef VKS_F16
#extension GL_EXT_shader_16bit_storage : require
#define vtype float16_t
#else
#define vtype float
#endif

float vks_act(float x, uint act)
{
    if (act == VKS_ACT_RELU) return max(x, 0.0);
    if (act == VKS_ACT_TANH) return tanh(x);
    if (act == VKS_ACT_SIGMOID) return 1.0 / (1.0 + exp(-x));
    return x;
}
