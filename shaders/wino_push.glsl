// The push constants of the Winograd convolution's shaders (conv2d_wino*.comp), field for field
// engine/ops/conv2d_winograd.c's wino_push_t: each shader reads its own of them.
layout(push_constant) uniform Push {
    uint h, w, in_stride;
    uint oh, ow, out_stride;
    uint tiles_w, ntiles, tp;   // tiles along x, tiles, the row length of V and M (floats)
    uint cin, cout;
    int pad_top, pad_left;
    uint co0, nco, wofs;        // the GEMM: output channels [co0, co0 + nco); element of U where co0's row starts
    uint pos, tile0, blk;       // the GEMM: the position; the dispatch's first tile; tiles per block of V
    uint chunk0;                // the first tile of this range: tile t here is tile chunk0 + t of the image
    uint zg;                    // the GEMM with several positions a dispatch: output-channel tiles per position
    uint ci0, cpb;              // the input transform from uniform buffers: its first channel, planes per buffer
    uint row0;                  // the transposed GEMM's output step: the input row of M's tile 0
    VKS_WG_BASE;
} pc;
