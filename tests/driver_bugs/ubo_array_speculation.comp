#version 450
#extension GL_EXT_scalar_block_layout : require
// Reduced from vkstyle's conv2d_xubo.comp. Each invocation sums one element of the N = 11
// uniform blocks xu[0..N-1]; the loop bound is a push constant equal to N, so no invocation ever
// reads xu[N]. Mesa 25.0.7 lavapipe (llvmpipe) crashes in the compiled shader dereferencing the
// descriptor of xu[N], one past the array; Mesa 22.3.6 runs it. Built with -DCLAMP=1 the index
// is xu[min(ci, N - 1)], which changes nothing for the program (ci < N), and both run it.
layout(local_size_x = 16, local_size_y = 4) in;
layout(std430, binding = 3) writeonly buffer Out { float y[]; };
layout(scalar, binding = 4) uniform Xu { float v[16384]; } xu[NUM_UBOS];
layout(push_constant) uniform Push { uint h, w, in_stride, oh, ow, out_stride, cin_total, ci0, nci; } pc;

void main()
{
    uint x = gl_GlobalInvocationID.x, oy = gl_GlobalInvocationID.y;
    float acc = 0.0;
    for (uint ci = 0; ci < pc.nci; ci++)
#if CLAMP
        acc += xu[min(ci, NUM_UBOS - 1)].v[oy * pc.w + x];
#else
        acc += xu[ci].v[oy * pc.w + x];
#endif
    y[oy * pc.ow + x] = acc;
}
