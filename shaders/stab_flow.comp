#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
// vks:wg-base
// Stabilization, optical flow (engine/stabilize.c): one level of coarse-to-fine block matching
// between two grey images of a pyramid (stab_grey.comp), from the current frame back to the
// previous one: flow(p) is where pixel p of the current frame was in the previous one (p + flow).
// The start is twice the coarser level's flow, bilinearly upsampled (0 at the coarsest level);
// the integer displacements d within +-search of its rounding are scored by
//   J(d) = mean over the (2 win + 1)^2 window q of min(|cur(p + q) - prev(p + q + d)|, trunc)
//          + penalty * (|d.x - start.x| + |d.y - start.y|)
// (positions clamped into the image), and the best is refined to a sub-pixel one by a parabola
// through J at d and its neighbours, in x and in y (at most half a pixel). Where no motion
// (d = 0) has a mean difference within `still` of the best's (the penalty left out), the flow is
// 0: noise in a still region does not move it. A flow that is not finite or larger than maxflow
// is 0. float32 [2, h, w] (x, then y).
#include "common.glsl"

layout(local_size_x = VKS_LOCAL_1D) in;
layout(constant_id = 0) const int SEARCH = 1;   // search radius, <= VKS_STAB_SEARCH_MAX
layout(constant_id = 1) const int WIN = 2;      // window radius, <= VKS_STAB_WIN_MAX

layout(std430, binding = 0) readonly buffer Cur { float cur[]; };
layout(std430, binding = 1) readonly buffer Prev { float prv[]; };
layout(std430, binding = 2) readonly buffer Coarse { float cf[]; };
layout(std430, binding = 3) writeonly buffer Flow { float f[]; };

layout(push_constant) uniform Push {
    uint w, h;            // this level's size
    uint cw, ch;          // the coarser level's size (has_coarse)
    uint cstride, stride; // plane strides of the coarser flow and of this one (elements)
    uint has_coarse;
    float penalty, trunc, maxflow;
    float still;          // no motion where its mean difference is within this of the best's
    VKS_WG_BASE;
} pc;

float wcur[(2 * WIN + 1) * (2 * WIN + 1)];
int px, py;

float cost(ivec2 d, vec2 start)
{
    float s = 0.0;
    int k = 0, w = int(pc.w), x0 = px + d.x - WIN, y0 = py + d.y - WIN;
    for (int v = 0; v <= 2 * WIN; v++) {
        int row = clamp(y0 + v, 0, int(pc.h) - 1) * w;
        for (int u = 0; u <= 2 * WIN; u++, k++) s += min(abs(wcur[k] - prv[row + clamp(x0 + u, 0, w - 1)]), pc.trunc);
    }
    vec2 o = abs(vec2(d) - start);
    return s / float(k) + pc.penalty * (o.x + o.y);
}

float coarse(uint plane, float x, float y)
{
    x = clamp(x, 0.0, float(pc.cw - 1));
    y = clamp(y, 0.0, float(pc.ch - 1));
    uint x0 = uint(x), y0 = uint(y), x1 = min(x0 + 1, pc.cw - 1), y1 = min(y0 + 1, pc.ch - 1);
    float a = x - float(x0), b = y - float(y0);
    uint o = plane * pc.cstride;
    return mix(mix(cf[o + y0 * pc.cw + x0], cf[o + y0 * pc.cw + x1], a),
               mix(cf[o + y1 * pc.cw + x0], cf[o + y1 * pc.cw + x1], a), b);
}

// J at base + o: from the search's scores where it was scored
float js[(2 * SEARCH + 1) * (2 * SEARCH + 1)];
float grid(ivec2 o, ivec2 base, vec2 start)
{
    if (abs(o.x) <= SEARCH && abs(o.y) <= SEARCH) return js[(o.y + SEARCH) * (2 * SEARCH + 1) + o.x + SEARCH];
    return cost(base + o, start);
}

float parabola(float l, float c, float r)
{
    float den = l - 2.0 * c + r;
    return den > 1e-6 ? clamp(0.5 * (l - r) / den, -0.5, 0.5) : 0.0;
}

void main()
{
    uint i = VKS_GID.x;
    if (i >= pc.w * pc.h) return;
    px = int(i % pc.w);
    py = int(i / pc.w);
    int k = 0;
    for (int v = -WIN; v <= WIN; v++)
        for (int u = -WIN; u <= WIN; u++, k++)
            wcur[k] = cur[clamp(py + v, 0, int(pc.h) - 1) * int(pc.w) + clamp(px + u, 0, int(pc.w) - 1)];
    vec2 start = vec2(0.0);
    if (pc.has_coarse != 0) {
        float cx = 0.5 * float(px) - 0.25, cy = 0.5 * float(py) - 0.25;
        start = 2.0 * vec2(coarse(0, cx, cy), coarse(1, cx, cy));
    }
    ivec2 base = ivec2(round(start));
    int n = 2 * SEARCH + 1;
    // The loops that call cost() stay loops: unrolled, its window was inlined 14 times and one
    // pipeline took about 9 s to compile on Mesa 25 lavapipe.
    [[dont_unroll]] for (int c = 0; c < n * n; c++) js[c] = cost(base + ivec2(c % n, c / n) - SEARCH, start);
    int bc = SEARCH * n + SEARCH;   // the start's displacement wins a tie
    for (int c = 0; c < n * n; c++)
        if (js[c] < js[bc]) bc = c;
    ivec2 o = ivec2(bc % n, bc / n) - SEARCH;
    ivec2 best = base + o;
    float jb = js[bc];
    float nb[4];   // J at the left, right, upper and lower neighbours of the best
    [[dont_unroll]] for (int j = 0; j < 4; j++) {
        ivec2 e = j < 2 ? ivec2(2 * j - 1, 0) : ivec2(0, 2 * j - 5);
        nb[j] = grid(o + e, base, start);
    }
    vec2 fl = vec2(best) + vec2(parabola(nb[0], jb, nb[1]), parabola(nb[2], jb, nb[3]));
    // no motion where it matches about as well as the best (noise in a still region must not move it)
    vec2 ob = abs(vec2(best) - start);
    if (cost(ivec2(0), vec2(0.0)) <= jb - pc.penalty * (ob.x + ob.y) + pc.still) fl = vec2(0.0);
    if (!(abs(fl.x) <= pc.maxflow && abs(fl.y) <= pc.maxflow)) fl = vec2(0.0);
    f[i] = fl.x;
    f[pc.stride + i] = fl.y;
}
