#version 450
// vkstyle live: out = mix(source, stylized, strength), per pixel, on the GPU. The stylized
// frame and the output are packed 8-bit pixels in the swapchain's order (RGBA or BGRA); the
// source is the session's input frame: RGBA, BGRA, or YUYV (BT.601 limited range, converted
// exactly as the engine's yuyv_to_rgb shader does).
layout(local_size_x = 64) in;

layout(std430, binding = 0) readonly buffer Sty { uint sty[]; };
layout(std430, binding = 1) readonly buffer Src { uint src[]; };
layout(std430, binding = 2) writeonly buffer Out { uint o[]; };

layout(push_constant) uniform Push { uint w, h, src_format, out_bgra; float strength; } pc;

void main()
{
    uint i = gl_GlobalInvocationID.x;
    if (i >= pc.w * pc.h) return;
    vec3 s = unpackUnorm4x8(sty[i]).rgb * 255.0;
    vec3 rgb;
    if (pc.src_format == 2u) {
        uint v = src[i / 2u];
        float y = float(((i & 1u) == 0u ? v : v >> 16) & 0xffu);
        float u = float((v >> 8) & 0xffu) - 128.0, vv = float(v >> 24) - 128.0;
        float c = 1.164383 * (y - 16.0);
        rgb = clamp(vec3(c + 1.596027 * vv, c - 0.391762 * u - 0.812968 * vv, c + 2.017232 * u), 0.0, 255.0);
    } else {
        vec4 p = unpackUnorm4x8(src[i]) * 255.0;
        rgb = pc.src_format == 1u ? p.bgr : p.rgb;
    }
    if (pc.out_bgra == 1u) rgb = rgb.bgr;
    vec3 r = clamp(round(mix(rgb, s, pc.strength)), 0.0, 255.0) / 255.0;
    o[i] = packUnorm4x8(vec4(r, 1.0));
}
