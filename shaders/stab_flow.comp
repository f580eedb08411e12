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

// The mean difference of the window at displacement d, loaded from the previous image (the no-motion
// test's, where the search's region does not hold it).
float mean_diff(ivec2 d)
{
    float s = 0.0;
    int k = 0, w = int(pc.w), x0 = px + d.x - WIN, y0 = py + d.y - WIN;
    for (int v = 0; v <= 2 * WIN; v++) {
        int row = clamp(y0 + v, 0, int(pc.h) - 1) * w;
        for (int u = 0; u <= 2 * WIN; u++, k++) s += min(abs(wcur[k] - prv[row + clamp(x0 + u, 0, w - 1)]), pc.trunc);
    }
    return s / float(k);
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
    // J over the search and the ring around it (mean_diff()'s sums, in its order), from the
    // previous image's pixels around p + base loaded once into registers: on lavapipe a load at a
    // per-invocation address is the costly part, and loading the window for every displacement
    // took the stabilization's flow 1.7x as long. Unrolled, so that every index is a constant.
    // js, jm: J and the mean difference alone at base + o, |o| <= SEARCH + 1 (the ring: where the
    // parabola may need a neighbour), [o.y + SEARCH + 1][o.x + SEARCH + 1].
    const int n = 2 * SEARCH + 3, R = SEARCH + 1 + WIN, RN = 2 * R + 1, WN = 2 * WIN + 1;
    float region[RN * RN], js[n * n], jm[n * n];
    int x0 = px + base.x - R, y0 = py + base.y - R, w = int(pc.w);
    [[unroll]] for (int v = 0; v < RN; v++) {
        int row = clamp(y0 + v, 0, int(pc.h) - 1) * w;
        [[unroll]] for (int u = 0; u < RN; u++) region[v * RN + u] = prv[row + clamp(x0 + u, 0, w - 1)];
    }
    [[unroll]] for (int c = 0; c < n * n; c++) {
        float s = 0.0;
        [[unroll]] for (int v = 0; v < WN; v++)
            [[unroll]] for (int u = 0; u < WN; u++)
                s += min(abs(wcur[v * WN + u] - region[(c / n + v) * RN + c % n + u]), pc.trunc);
        vec2 od = abs(vec2(base + ivec2(c % n, c / n) - (SEARCH + 1)) - start);
        jm[c] = s / float(WN * WN);
        js[c] = jm[c] + pc.penalty * (od.x + od.y);
    }
    int bc = (SEARCH + 1) * n + SEARCH + 1;   // the start's displacement wins a tie
    [[unroll]] for (int c = 0; c < n * n; c++) {
        int cx = c % n, cy = c / n;
        if (cx >= 1 && cx <= 2 * SEARCH + 1 && cy >= 1 && cy <= 2 * SEARCH + 1 && js[c] < js[bc]) bc = c;
    }
    ivec2 best = base + ivec2(bc % n, bc / n) - (SEARCH + 1);
    float jb = js[bc];
    // J at the left, right, upper and lower neighbours of the best
    vec2 fl = vec2(best) + vec2(parabola(js[bc - 1], jb, js[bc + 1]), parabola(js[bc - n], jb, js[bc + n]));
    // no motion where it matches about as well as the best (noise in a still region must not move it)
    vec2 ob = abs(vec2(best) - start);
    ivec2 z = SEARCH + 1 - base;   // no motion, in the grid
    float j0 = all(lessThanEqual(abs(base), ivec2(SEARCH + 1))) ? jm[z.y * n + z.x] : mean_diff(ivec2(0));
    if (j0 <= jb - pc.penalty * (ob.x + ob.y) + pc.still) fl = vec2(0.0);
    if (!(abs(fl.x) <= pc.maxflow && abs(fl.y) <= pc.maxflow)) fl = vec2(0.0);
    f[i] = fl.x;
    f[pc.stride + i] = fl.y;
}
