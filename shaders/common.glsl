// Shared by every shader: the config constants, the activation storage type and activations.
#include "config.h"

// Activation tensors are stored as `vtype`: float, or float16_t in the fp16 variant of a shader
// (a variant declared `// vks:variant <stem>_f16 VKS_F16`: -DVKS_F16=1, see cmake/shaders.cmake).
// Arithmetic stays fp32 in both: loads convert with float(), stores with vtype(), so
// normalization statistics are always accumulated in fp32.
#ifdef VKS_F16
#extension GL_EXT_shader_16bit_storage : require
#define vtype float16_t
#else
#define vtype float
#endif

// Split dispatches (engine/recorder.c): a shader marked `// vks:wg-base` ends its push-constant
// block with VKS_WG_BASE, the first workgroup of this dispatch, and uses VKS_WG_ID / VKS_GID
// instead of gl_WorkGroupID / gl_GlobalInvocationID: a dispatch larger than the device's
// maxComputeWorkGroupCount is recorded as several that each start where the last one ended.
#define VKS_WG_BASE uint wgx0, wgy0, wgz0
#define VKS_WG_ID (gl_WorkGroupID + uvec3(pc.wgx0, pc.wgy0, pc.wgz0))
#define VKS_GID (VKS_WG_ID * gl_WorkGroupSize + gl_LocalInvocationID)

float vks_act(float x, uint act)
{
    if (act == VKS_ACT_RELU) return max(x, 0.0);
    if (act == VKS_ACT_TANH) return tanh(x);
    if (act == VKS_ACT_SIGMOID) return 1.0 / (1.0 + exp(-x));
    return x;
}
