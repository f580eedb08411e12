// The Winograd input transforms' bindings and padding (conv2d_wino_in.comp, conv2d_wino4_in.comp).
// XLOAD(i): element i of an input plane (WINO_IN_PLANE names it), from a storage buffer, or in the
// *_xubo variants (CPU devices, fp32, planes of at most VKS_UBO_BYTES: vks_ubo_planes) from
// VKS_X_UBOS uniform buffers of pc.cpb planes each: Mesa 22.3's lavapipe loads a storage buffer
// one lane at a time, a uniform buffer with plain loads (as conv2d.comp's conv2d_xubo). A dispatch
// of an xubo variant takes the channels its buffers hold, channel pc.ci0 on of V, which has all.
#if VKS_INPUT_UBO
layout(std430, binding = 0) writeonly buffer V { float v[]; };
layout(scalar, binding = 1) uniform Xu { float v[VKS_UBO_BYTES / 4]; } xu[VKS_X_UBOS];
#define XLOAD(i) xu[xg].v[base + (i)]
#else
layout(std430, binding = 0) readonly buffer In { vtype x[]; };
layout(std430, binding = 1) writeonly buffer V { vtype v[]; };
#define XLOAD(i) x[base + (i)]
#endif

#include "wino_push.glsl"

layout(constant_id = 0) const uint PAD_MODE = 0;  // 0: zeros, 1: reflection, 2: the edge repeated

int fold(int i, int n, out float valid)
{
    if (PAD_MODE == 1) {
        valid = 1.0;
        i = abs(i);
        return clamp(min(i, 2 * n - 2 - i), 0, n - 1);   // clamped: rows of tiles past the output
    }
    if (PAD_MODE == 2) {
        valid = 1.0;
        return clamp(i, 0, n - 1);
    }
    valid = float(i >= 0 && i < n);
    return clamp(i, 0, n - 1);
}

// The plane of channel ci (this dispatch's) where XLOAD reads: xg its uniform buffer (clamped, as
// conv2d.comp's CLAMP_INDEX: always in range, and Mesa 25 lavapipe may load past a bound the index
// does not show, tests/driver_bugs/ubo_array_speculation.c), base its first element there.
#if VKS_INPUT_UBO
#define WINO_IN_PLANE(ci) uint xg = min((ci) / pc.cpb, uint(VKS_X_UBOS - 1)), base = ((ci) % pc.cpb) * pc.in_stride
#else
#define WINO_IN_PLANE(ci) uint base = (ci) * pc.in_stride
#endif
