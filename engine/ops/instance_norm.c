/* instance_norm: per sample and channel over H x W, one workgroup per plane; with given
 * statistics (an image run in tiles); and channel_stats, the statistics of rows of a tile. */
#include "op.h"

typedef struct { uint32_t hw, stride, gamma_off, beta_off; float eps; uint32_t stats_off, cpb, part, wg_base[3]; } in_push_t;
_Static_assert(sizeof(in_push_t) <= 128, "push constants");

/* Invocations per plane: VKS_NORM_LOCAL; on a CPU device one subgroup (8 on lavapipe with AVX2):
 * there each of the reduction's barriers switches between the workgroup's SIMD rows, and 8
 * invocations took a half to a third of the time of 64 on every plane of udnie from 16x16 to
 * 256x256 (benchmarks/README.md); GPUs keep 64 until measured. VKSTYLE_NORM_LOCAL=N (a power of 2,
 * 4 up to VKS_NORM_LOCAL) sets it to measure others. Planes too large for the loop limit with
 * fewer invocations (norm_common.glsl) get VKS_NORM_LOCAL. */
static uint32_t norm_local(const vks_context_t *ctx, uint64_t hw)
{
    uint32_t l = VKS_NORM_LOCAL, sg = ctx->info.subgroup_size;
    if (ctx->props.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU && sg >= 4 && sg < l && !(sg & (sg - 1))) l = sg;
    uint32_t v = vks_env_pow2("VKSTYLE_NORM_LOCAL", 4, VKS_NORM_LOCAL);
    if (v) l = v;
    if (hw > 65535u / 3u * l * VKS_NORM_UNROLL) l = VKS_NORM_LOCAL;
    return l;
}

/* Planes per uniform buffer when instance_norm_xubo can read the input (vks_input_ubo: CPU
 * devices; fp32 planes of at most VKS_UBO_BYTES, scalarBlockLayout: vks_ubo_planes; subgroup
 * arithmetic, for its reductions), else 0. VKSTYLE_NORM_UBO=0 turns it off, to measure. */
static uint32_t x_planes(const vks_context_t *ctx, const vks_tensor_t *in)
{
    return vks_env_is("VKSTYLE_NORM_UBO", "0") || !ctx->subgroup_add ? 0 : vks_ubo_planes(ctx, in);
}

/* Whether a plane instance_norm_xubo cannot take goes to instance_norm_v4 (4 floats a load, sums
 * by subgroupAdd): fp32, a CPU device whose workgroup is one subgroup. Mesa 22.3's lavapipe loads
 * a storage buffer one lane at a time, so a 32x256x256 norm took 8-12 ms there against 3.6 ms on
 * Mesa 25 (benchmarks/README.md). VKSTYLE_NORM_V4=0 turns it off, to measure. */
static bool quads(const vks_context_t *ctx, const vks_tensor_t *in, const vks_tensor_t *out, bool one_subgroup)
{
    return one_subgroup && ctx->subgroup_add && in->esize == 4 && out->esize == 4 && in->plane_stride % 4 == 0 &&
           out->plane_stride % 4 == 0 && !vks_env_is("VKSTYLE_NORM_V4", "0");
}

/* Elements of a plane a workgroup takes when instance norm splits its planes into ranges, or 0
 * (one workgroup a plane). On a GPU, one workgroup on a whole plane leaves the device idle: on an
 * NVIDIA H200 at 1920x1080 the 32-channel full-resolution layers took 20 ms each that way, a
 * fifth of the frame (benchmarks/README.md). Split, each plane's ranges are reduced by
 * channel_stats, combined by channel_stats_combine, and normalized by range (instance_norm with
 * the statistics given): three dispatches instead of one, so only planes of at least two ranges.
 * A CPU device keeps one workgroup a plane: its few cores are busy with the channels.
 * VKSTYLE_NORM_SPLIT=N sets the range to N elements on any device (tests, measurement); 0: never. */
static uint32_t norm_part(const vks_context_t *ctx, uint64_t hw)
{
    const char *e = getenv("VKSTYLE_NORM_SPLIT");
    uint64_t part = ctx && ctx->props.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU ? 0 : VKS_NORM_PART;
    if (e && *e) part = strtoull(e, NULL, 10);
    if (part == 0 || hw < 2 * part) return 0;
    if (vks_div_up(hw, part) > 65535) part = vks_div_up(hw, 65535);   /* maxComputeWorkGroupCount[1]'s least */
    return (uint32_t)part;
}

/* The scratch of split planes: [channel][range][2] floats, then from the next 256 bytes (a binding's
 * alignment) [channel][2]. */
static VkDeviceSize parts_bytes(uint32_t c, uint32_t parts)
{
    return (2 * sizeof(float) * (VkDeviceSize)c * parts + 255) / 256 * 256;
}

static VkDeviceSize split_bytes(uint32_t c, uint32_t parts)
{
    return parts_bytes(c, parts) + 2 * sizeof(float) * (VkDeviceSize)c;
}

/* The scratch a split plane needs (the plan's, for any device: a CPU device leaves it unused). */
VkDeviceSize vks_instance_norm_scratch_bytes(const vks_tensor_t *in)
{
    uint64_t hw = (uint64_t)in->h * in->w;
    uint32_t part = norm_part(NULL, hw);
    return part ? split_bytes(in->c, (uint32_t)vks_div_up(hw, part)) : 0;
}

typedef struct { uint32_t count, stride, first, out_off, end, parts, wg_base[3]; } stats_push_t;
typedef struct { uint32_t hw, count, parts, nc; } combine_push_t;

static vks_status_t instance_norm(vks_rec_t *rec, const vks_tensor_t *in, const vks_tensor_t *out,
                                  const vks_tensor_t *gamma, uint32_t gamma_off, const vks_tensor_t *beta,
                                  uint32_t beta_off, float eps, uint32_t act, const vks_tensor_t *residual,
                                  const vks_tensor_t *stats, uint32_t stats_off, const vks_tensor_t *scratch)
{
    const char *op = "instance_norm";
    uint64_t hw = (uint64_t)in->h * in->w;
    vks_status_t st = vks_check_same_shape(op, in, out);
    if (!st && residual) st = vks_check_same_shape(op, residual, out);
    if (st) return st;
    if (!(eps > 0.0f) || eps != eps || eps > 1e30f)
        return vks_fail(VKS_ERR_INVALID_ARGUMENT, "%s: eps must be a positive finite number", op);
    if ((uint64_t)gamma_off + in->c > (uint64_t)gamma->n * gamma->c * gamma->h * gamma->w ||
        (uint64_t)beta_off + in->c > (uint64_t)beta->n * beta->c * beta->h * beta->w)
        return vks_fail(VKS_ERR_SHAPE, "%s: gamma/beta have fewer than %u channels", op, in->c);
    if (stats && 2 * ((uint64_t)stats_off + (uint64_t)in->n * in->c) > (uint64_t)stats->n * stats->c * stats->h * stats->w)
        return vks_fail(VKS_ERR_SHAPE, "%s: the statistics table has fewer than %u channels", op, in->n * in->c);
    if (hw > VKS_NORM_MAX_PLANE)
        return vks_fail(VKS_ERR_SHAPE, "%s: a %ux%u plane is more than its shader takes (%u pixels)", op, in->h, in->w,
                        VKS_NORM_MAX_PLANE);
    /* split planes: the statistics in the scratch, [channel][range][2] then [channel][2] */
    uint32_t part = stats ? 0 : norm_part(rec->ctx, hw), parts = part ? (uint32_t)vks_div_up(hw, part) : 1;
    if (part && (!scratch || !scratch->block || vks_tensor_bytes(scratch) < split_bytes(in->c, parts)))
        part = 0, parts = 1;
    uint32_t local = norm_local(rec->ctx, part ? part : hw);
    /* instance_norm_xubo's reductions by subgroupAdd (no barriers): where a workgroup is one
     * subgroup, which on a CPU device (lavapipe: the SIMD row) at most subgroupSize invocations are */
    bool one_subgroup = rec->ctx->props.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU && local <= rec->ctx->info.subgroup_size;
    uint32_t spec[6] = {act, residual != NULL, stats != NULL || part, local, rec->ctx->clamp_ubo_array_index, one_subgroup};
    const vks_tensor_t *ts[3] = {in, out, residual};
    const vks_pipeline_t *pipe;
    uint32_t cpb = x_planes(rec->ctx, in);
    if (cpb) st = vks_rec_pipeline(rec, VKS_SHADER_INSTANCE_NORM_XUBO, spec, 6, 7, 1u << 6, sizeof(in_push_t),
                                   VKS_X_UBOS, &pipe);
    else if (!part && quads(rec->ctx, in, out, one_subgroup))
        st = vks_rec_pipeline(rec, VKS_SHADER_INSTANCE_NORM_V4, spec, 6, 6, 0, sizeof(in_push_t), 1, &pipe);
    else st = vks_act_pipeline(rec, op, VKS_SHADER_INSTANCE_NORM, ts, 3, spec, 4, 6, sizeof(in_push_t), &pipe);
    if (st) return st;
    const vks_pipeline_t *p_stats = NULL, *p_comb = NULL;
    vks_tensor_t t_parts, t_stats;
    if (part) {
        const vks_tensor_t *ts1[1] = {in};
        if ((st = vks_act_pipeline(rec, "channel_stats", VKS_SHADER_CHANNEL_STATS, ts1, 1, NULL, 0, 2,
                                   sizeof(stats_push_t), &p_stats)))
            return st;
        if ((st = vks_rec_pipeline(rec, VKS_SHADER_CHANNEL_STATS_COMBINE, NULL, 0, 2, 0, sizeof(combine_push_t), 1,
                                   &p_comb)))
            return st;
        /* the two tables: views of the scratch as flat fp32 tensors */
        t_parts = vks_tensor_flat(scratch->block, scratch->offset, 2 * in->c * parts);
        t_stats = vks_tensor_flat(scratch->block, scratch->offset + parts_bytes(in->c, parts), 2 * in->c);
        stats = &t_stats;
        stats_off = 0;
    }
    uint32_t chunk = 0;
    if ((st = vks_chunk_channels(rec->ctx, op, ts, 3, &chunk))) return st;
    if (cpb && chunk > cpb * VKS_X_UBOS) chunk = cpb * VKS_X_UBOS;
    for (uint32_t n = 0; n < in->n; n++)
        for (uint32_t c = 0; c < in->c; c += chunk) {
            uint32_t nc = in->c - c < chunk ? in->c - c : chunk;
            if (part) {   /* this chunk's statistics into the scratch: ranges, then whole planes */
                stats_push_t sp = {part, in->plane_stride, 0, 0, (uint32_t)hw, parts, {0}};
                vks_binding_t sb[2] = {vks_bind_channels(in, n, c, nc, false), vks_bind(&t_parts, true)};
                if ((st = vks_rec_dispatch(rec, p_stats, sb, 2, &sp, nc, parts, 1))) return st;
                combine_push_t cp = {(uint32_t)hw, part, parts, nc};
                vks_binding_t cb[2] = {vks_bind(&t_parts, false), vks_bind(&t_stats, true)};
                if ((st = vks_rec_dispatch(rec, p_comb, cb, 2, &cp, vks_div_up(nc, 64), 1, 1))) return st;
            }
            in_push_t push = {(uint32_t)hw, in->plane_stride, gamma_off + c, beta_off + c, eps,
                              part ? 0 : stats_off + n * in->c + c, cpb, part, {0}};
            vks_binding_t b[6 + VKS_X_UBOS] = {
                vks_bind_channels(in, n, c, nc, false),
                vks_bind_channels(out, n, c, nc, true),
                vks_bind(gamma, false),
                vks_bind(beta, false),
                vks_bind_channels(residual ? residual : in, n, c, nc, false),
                vks_bind(stats ? stats : gamma, false),
            };
            if (cpb) vks_bind_ubo_planes(in, n, c, nc, cpb, b + 6);
            if ((st = vks_rec_dispatch(rec, pipe, b, cpb ? 6 + VKS_X_UBOS : 6, &push, nc, parts, 1))) return st;
        }
    return VKS_OK;
}

vks_status_t vks_op_instance_norm(vks_rec_t *rec, const vks_tensor_t *in, const vks_tensor_t *out,
                                  const vks_tensor_t *gamma, uint32_t gamma_off,
                                  const vks_tensor_t *beta, uint32_t beta_off, float eps,
                                  uint32_t act, const vks_tensor_t *residual)
{
    return instance_norm(rec, in, out, gamma, gamma_off, beta, beta_off, eps, act, residual, NULL, 0, NULL);
}

vks_status_t vks_op_instance_norm_scratch(vks_rec_t *rec, const vks_tensor_t *in, const vks_tensor_t *out,
                                          const vks_tensor_t *gamma, uint32_t gamma_off,
                                          const vks_tensor_t *beta, uint32_t beta_off, float eps,
                                          uint32_t act, const vks_tensor_t *residual, const vks_tensor_t *scratch)
{
    return instance_norm(rec, in, out, gamma, gamma_off, beta, beta_off, eps, act, residual, NULL, 0, scratch);
}

vks_status_t vks_op_instance_norm_given(vks_rec_t *rec, const vks_tensor_t *in, const vks_tensor_t *out,
                                        const vks_tensor_t *gamma, uint32_t gamma_off,
                                        const vks_tensor_t *beta, uint32_t beta_off, float eps,
                                        uint32_t act, const vks_tensor_t *residual,
                                        const vks_tensor_t *stats, uint32_t stats_off)
{
    if (!stats) return vks_fail(VKS_ERR_INVALID_ARGUMENT, "instance_norm: no statistics given");
    return instance_norm(rec, in, out, gamma, gamma_off, beta, beta_off, eps, act, residual, stats, stats_off, NULL);
}

vks_status_t vks_op_channel_stats(vks_rec_t *rec, const vks_tensor_t *in, uint32_t row0, uint32_t rows,
                                  const vks_tensor_t *stats, uint32_t stats_off)
{
    const char *op = "channel_stats";
    if (in->n == 0 || in->c == 0 || in->h == 0 || in->w == 0 || rows == 0 || row0 + rows > in->h || row0 + rows < row0)
        return vks_fail(VKS_ERR_SHAPE, "%s: rows %u..%u of [%u,%u,%u,%u]", op, row0, row0 + rows, in->n, in->c,
                        in->h, in->w);
    if (2 * ((uint64_t)stats_off + (uint64_t)in->n * in->c) > (uint64_t)stats->n * stats->c * stats->h * stats->w)
        return vks_fail(VKS_ERR_SHAPE, "%s: the statistics table has fewer than %u channels", op, in->n * in->c);
    if ((uint64_t)rows * in->w > VKS_NORM_MAX_PLANE)
        return vks_fail(VKS_ERR_SHAPE, "%s: %u rows of %u are more than its shader takes (%u pixels)", op, rows, in->w,
                        VKS_NORM_MAX_PLANE);
    const vks_tensor_t *ts[1] = {in};
    const vks_pipeline_t *pipe;
    vks_status_t st = vks_act_pipeline(rec, op, VKS_SHADER_CHANNEL_STATS, ts, 1, NULL, 0, 2, sizeof(stats_push_t), &pipe);
    if (st) return st;
    uint32_t chunk = 0;
    if ((st = vks_chunk_channels(rec->ctx, op, ts, 1, &chunk))) return st;
    for (uint32_t n = 0; n < in->n; n++)
        for (uint32_t c = 0; c < in->c; c += chunk) {
            uint32_t nc = in->c - c < chunk ? in->c - c : chunk;
            stats_push_t push = {rows * in->w, in->plane_stride, row0 * in->w, stats_off + n * in->c + c,
                                 (row0 + rows) * in->w, 1, {0}};
            vks_binding_t b[2] = {vks_bind_channels(in, n, c, nc, false), vks_bind(stats, true)};
            if ((st = vks_rec_dispatch(rec, pipe, b, 2, &push, nc, 1, 1))) return st;
        }
    return VKS_OK;
}

/* ------------------------------------------------------------------ the layer */

static vks_status_t parse(const vks_loader_t *L, json_t *o, vks_layer_t *ly, vks_layer_refs_t *r, uint32_t cin)
{
    vks_status_t st;
    uint64_t d[1] = {cin};
    if ((st = vks_ld_tensor(L, o, "gamma", false, 1, d, &r->gamma))) return st;
    if ((st = vks_ld_tensor(L, o, "beta", false, 1, d, &r->beta))) return st;
    return vks_ld_float(L, o, "eps", 1e-5f, 1e-12f, 1.0f, &ly->eps);
}

static void reserve(vks_wbuild_t *wb, uint32_t i)
{
    vks_layer_t *ly = &wb->m->layers[i];
    ly->gamma = vks_wb_reserve(wb, ly->channels);
    ly->beta = vks_wb_reserve(wb, ly->channels);
}

static vks_status_t load(vks_wbuild_t *wb, uint32_t i)
{
    const vks_layer_t *ly = &wb->m->layers[i];
    vks_status_t st = vks_st_read_f32(wb->f, wb->refs[i].gamma, vks_wb_at(wb, &ly->gamma));
    return st ? st : vks_st_read_f32(wb->f, wb->refs[i].beta, vks_wb_at(wb, &ly->beta));
}

static vks_status_t record(vks_rec_t *rec, const vks_layer_t *ly, const vks_layer_io_t *io)
{
    if (io->stats)
        return vks_op_instance_norm_given(rec, io->in, io->out, &ly->gamma, 0, &ly->beta, 0, ly->eps, ly->act, io->res,
                                          io->stats, io->stats_off);
    return vks_op_instance_norm_scratch(rec, io->in, io->out, &ly->gamma, 0, &ly->beta, 0, ly->eps, ly->act, io->res,
                                        io->scratch);
}

VkDeviceSize vks_instance_norm_scratch(const vks_layer_t *ly, const vks_tensor_t *in, const vks_tensor_t *out)
{
    (void)ly, (void)out;
    return vks_instance_norm_scratch_bytes(in);
}

void vks_instance_norm_cost(const vks_layer_t *ly, const vks_tensor_t *in, const vks_tensor_t *out,
                            vks_layer_profile_t *lp)
{
    double nin = (double)in->c * in->h * in->w, nout = (double)out->c * out->h * out->w;
    lp->flops = 5 * nin;                 /* mean, centred squares, scale + shift */
    lp->bytes = in->esize * (2 * nin + nout + (ly->has_residual ? nout : 0));
}

const vks_op_desc_t vks_op_instance_norm_desc = {
    .name = "instance_norm",
    .flags = VKS_OPF_RESIDUAL | VKS_OPF_WHOLE_STATS,
    .parse = parse,
    .reserve = reserve,
    .load = load,
    .record = record,
    .scratch = vks_instance_norm_scratch,
    .cost = vks_instance_norm_cost,
};
