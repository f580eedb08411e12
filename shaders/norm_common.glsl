// Two-pass instance statistics over one plane (mean, then the centred sum of squares: no
// E[x^2]-E[x]^2 cancellation), shared by instance_norm.comp and batch statistics tests.
shared float red[VKS_NORM_LOCAL];

float workgroup_sum(float v)
{
    red[gl_LocalInvocationID.x] = v;
    barrier();
    for (uint s = VKS_NORM_LOCAL / 2; s > 0; s >>= 1) {
        if (gl_LocalInvocationID.x < s) red[gl_LocalInvocationID.x] += red[gl_LocalInvocationID.x + s];
        barrier();
    }
    float r = red[0];
    barrier();
    return r;
}
