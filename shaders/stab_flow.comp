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
// (positions clamped into the image). Where no motion (d = 0) has a mean difference within `still`
// of the best's (the penalty left out), d is 0: noise in a still region does not move it. d is
// then refined to a sub-pixel flow d + e by one Lucas-Kanade step over the window:
//   e = -A^-1 b,  A = sum g g^T + reg I,  b = sum g (prev(p + q + d) - cur(p + q)),
// g the current image's gradient at p + q (central differences inside the window, one-sided at
// its edges), each component of e clamped to +-1; where d is 0 an e shorter than `dead` is
// dropped (still regions stay still). A flow that is not finite or larger than maxflow is 0.
// float32 [2, h, w] (x, then y).
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
    float reg;            // the Lucas-Kanade step's regularization (0..255 units squared)
    float dead;           // a sub-pixel flow from no motion shorter than this is dropped (pixels)
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
    // the Lucas-Kanade step's gradients and normal matrix, from the current window alone
    const int WN = 2 * WIN + 1;
    float gxw[WN * WN], gyw[WN * WN], a11 = pc.reg, a12 = 0.0, a22 = pc.reg, cx0 = 0.0, cy0 = 0.0;
    [[unroll]] for (int v = 0; v < WN; v++)
        [[unroll]] for (int u = 0; u < WN; u++) {
            const int ul = max(u - 1, 0), ur = min(u + 1, WN - 1), vu = max(v - 1, 0), vd = min(v + 1, WN - 1);
            float gx = ur > ul ? (wcur[v * WN + ur] - wcur[v * WN + ul]) / float(ur - ul) : 0.0;
            float gy = vd > vu ? (wcur[vd * WN + u] - wcur[vu * WN + u]) / float(vd - vu) : 0.0;
            gxw[v * WN + u] = gx;
            gyw[v * WN + u] = gy;
            a11 += gx * gx;
            a12 += gx * gy;
            a22 += gy * gy;
            cx0 += gx * wcur[v * WN + u];
            cy0 += gy * wcur[v * WN + u];
        }
    vec2 start = vec2(0.0);
    if (pc.has_coarse != 0) {
        float cx = 0.5 * float(px) - 0.25, cy = 0.5 * float(py) - 0.25;
        start = 2.0 * vec2(coarse(0, cx, cy), coarse(1, cx, cy));
    }
    ivec2 base = ivec2(round(start));
    // J over the search (mean_diff()'s sums, in its order), from the previous image's pixels around
    // p + base loaded once into registers: on lavapipe a load at a per-invocation address is the
    // costly part, and loading the window for every displacement took the stabilization's flow 1.7x
    // as long. Unrolled, so that every index is a constant. js, jm: J and the mean difference alone
    // at base + o, |o| <= SEARCH, [o.y + SEARCH][o.x + SEARCH]; bx, by: the Lucas-Kanade step's b
    // there.
    const int n = 2 * SEARCH + 1, R = SEARCH + WIN, RN = 2 * R + 1;
    float region[RN * RN], js[n * n], jm[n * n], bx[n * n], by[n * n];
    int x0 = px + base.x - R, y0 = py + base.y - R, w = int(pc.w);
    [[unroll]] for (int v = 0; v < RN; v++) {
        int row = clamp(y0 + v, 0, int(pc.h) - 1) * w;
        [[unroll]] for (int u = 0; u < RN; u++) region[v * RN + u] = prv[row + clamp(x0 + u, 0, w - 1)];
    }
    [[unroll]] for (int c = 0; c < n * n; c++) {
        float s = 0.0, sx = 0.0, sy = 0.0;
        [[unroll]] for (int v = 0; v < WN; v++)
            [[unroll]] for (int u = 0; u < WN; u++) {
                float pv = region[(c / n + v) * RN + c % n + u];
                s += min(abs(wcur[v * WN + u] - pv), pc.trunc);
                sx += gxw[v * WN + u] * pv;
                sy += gyw[v * WN + u] * pv;
            }
        vec2 od = abs(vec2(base + ivec2(c % n, c / n) - SEARCH) - start);
        jm[c] = s / float(WN * WN);
        js[c] = jm[c] + pc.penalty * (od.x + od.y);
        bx[c] = sx - cx0;
        by[c] = sy - cy0;
    }
    int bc = SEARCH * n + SEARCH;   // the start's displacement wins a tie
    [[unroll]] for (int c = 0; c < n * n; c++)
        if (js[c] < js[bc]) bc = c;
    ivec2 best = base + ivec2(bc % n, bc / n) - SEARCH;
    float jb = js[bc];
    // no motion where it matches about as well as the best (noise in a still region must not move it)
    vec2 ob = abs(vec2(best) - start);
    ivec2 z = SEARCH - base;   // no motion, in the grid
    bool zin = all(lessThanEqual(abs(base), ivec2(SEARCH)));
    float j0 = zin ? jm[z.y * n + z.x] : mean_diff(ivec2(0));
    int dc = bc;   // the grid cell of d: the best, or no motion (-1 where it is outside the grid)
    if (j0 <= jb - pc.penalty * (ob.x + ob.y) + pc.still) {
        best = ivec2(0);
        dc = zin ? z.y * n + z.x : -1;
    }
    // the Lucas-Kanade step from d (its sums picked with constant indices: no indexed registers)
    float b1 = 0.0, b2 = 0.0;
    [[unroll]] for (int c = 0; c < n * n; c++)
        if (c == dc) {
            b1 = bx[c];
            b2 = by[c];
        }
    float det = a11 * a22 - a12 * a12;
    vec2 e = dc >= 0 && det > 0.0 ? clamp(-vec2(a22 * b1 - a12 * b2, a11 * b2 - a12 * b1) / det, -1.0, 1.0) : vec2(0.0);
    if (best == ivec2(0) && length(e) < pc.dead) e = vec2(0.0);
    vec2 fl = vec2(best) + e;
    if (!(abs(fl.x) <= pc.maxflow && abs(fl.y) <= pc.maxflow)) fl = vec2(0.0);
    f[i] = fl.x;
    f[pc.stride + i] = fl.y;
}
