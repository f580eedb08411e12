/* vkstyle — neural style transfer on any Vulkan device.
 *
 * The public C API. Every function that can fail returns a vks_status_t; on failure
 * vks_last_error() returns a one-line message for the calling thread that says what went
 * wrong (which layer, which tensor, which shape). Nothing in the library aborts or exits.
 *
 * Lifetimes: a context owns the Vulkan instance and device; a model (weights on the device)
 * belongs to one context; a session (activation memory, pipelines, recorded command buffer
 * for one input size) belongs to one model. Destroy in reverse order. Every _destroy accepts
 * NULL.
 *
 * Threads:
 * - vks_context_create and vks_context_destroy run with nothing else on that context: no other
 *   thread uses the context, its models or its sessions during either call.
 * - Different sessions, of one model or of several models on one context, may be created, run
 *   (vks_session_run, _run_raw, _profile, tiled or not), given style weights and destroyed on
 *   different threads at the same time. Each session owns the command buffers and descriptor sets
 *   it records into; what sessions share is locked inside the context: submissions to its one
 *   queue and its pipeline table (with the pipeline cache). Models load on different threads at
 *   once the same way, and vks_session_fit, _largest_size, _memory_estimate and vks_measure_peak
 *   may run beside them.
 * - One session is used by one thread at a time (two threads running the same session at once
 *   is not detected and corrupts its frames); it may move between threads between calls. A model
 *   is destroyed only when no thread uses it or a session of it.
 * - vks_session_stats counts (uploads, pipelines, submits) are the context's, summed over all
 *   threads. vks_last_error() is per thread. Code that submits to the context's queue itself
 *   holds vks_context_lock_queue (vkstyle_vulkan.h).
 */
#ifndef VKSTYLE_H
#define VKSTYLE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes: X(name, message). One list yields the enum and vks_status_str(). */
#define VKS_STATUS_LIST(X)                                                    \
    X(VKS_OK, "ok")                                                           \
    X(VKS_ERR_INVALID_ARGUMENT, "invalid argument")                           \
    X(VKS_ERR_NO_DEVICE, "no usable Vulkan device")                           \
    X(VKS_ERR_VULKAN, "Vulkan call failed")                                   \
    X(VKS_ERR_OUT_OF_HOST_MEMORY, "out of host memory")                       \
    X(VKS_ERR_OUT_OF_DEVICE_MEMORY, "out of device memory")                   \
    X(VKS_ERR_DEVICE_LOST, "device lost")                                     \
    X(VKS_ERR_UNSUPPORTED, "unsupported by this device")                      \
    X(VKS_ERR_IO, "file input/output failed")                                 \
    X(VKS_ERR_MODEL_FORMAT, "malformed model file")                           \
    X(VKS_ERR_SHAPE, "invalid tensor shape")                                  \
    X(VKS_ERR_STYLE, "invalid style selection")                               \
    X(VKS_ERR_TOO_LARGE, "too large for the device")

typedef enum vks_status {
#define VKS_X_ENUM(name, msg) name,
    VKS_STATUS_LIST(VKS_X_ENUM)
#undef VKS_X_ENUM
        VKS_STATUS_COUNT
} vks_status_t;

/* The most styles a model may have: a style mix is one weight per style, and the weights are the
 * whole push-constant block of the mixing shader (32 floats = 128 bytes, what every device
 * guarantees). An array of VKS_MAX_STYLES floats holds any model's weights
 * (vks_session_set_style_weights). */
#define VKS_MAX_STYLES 32

/* The library's version, "MAJOR.MINOR.PATCH" (never NULL). */
const char *vks_version_string(void);

/* Short fixed description of a status code (never NULL). */
const char *vks_status_str(vks_status_t status);

/* The detailed message of the last failure on this thread ("" if none). Names from a model
 * file in it are escaped as by vks_escape_controls: the message is one line. */
const char *vks_last_error(void);

/* Copy src into dst (dstsz bytes, always terminated, cut if need be) with control characters
 * written out: \n, \r, \t, \xHH for the other bytes below 0x20 and 0x7f, \uHHHH for the C1
 * controls U+0080..U+009F. Text from files then prints as one line with no terminal escape
 * sequences. Backslashes are kept as they are, so escaping twice changes nothing. */
void vks_escape_controls(char *dst, size_t dstsz, const char *src);

/* ---------------------------------------------------------------- context */

typedef struct vks_context vks_context_t;

typedef struct vks_context_options {
    /* Device by index ("0") or case-insensitive name substring; NULL: env VKSTYLE_DEVICE,
     * else the first discrete GPU, then integrated, then virtual, then CPU. */
    const char *device;
    /* Enable VK_LAYER_KHRONOS_validation and count its messages (see
     * vks_context_validation_messages). Also enabled by env VKSTYLE_VALIDATION=1. */
    int validation;
    /* Print validation messages to stderr (default when validation is on: yes). */
    int quiet_validation;
    /* Directory for the on-disk pipeline cache; NULL: $XDG_CACHE_HOME/vkstyle or
     * ~/.cache/vkstyle; "" disables the disk cache. */
    const char *cache_dir;
    /* Extra instance extensions (e.g. from glfwGetRequiredInstanceExtensions) and whether to
     * enable VK_KHR_swapchain on the device (fails with VKS_ERR_UNSUPPORTED if absent). */
    const char *const *instance_extensions;
    uint32_t instance_extension_count;
    int swapchain;
    /* Convolution paths, for benchmarks and tests: 0 picks per layer (weights from a uniform
     * buffer where they fit, and the input too where its planes fit; else storage buffers), 1
     * forces the storage-buffer shaders. */
    int conv_storage_weights;
    /* For tests: bind at most this many bytes per descriptor (0: the device's
     * maxStorageBufferRange). Smaller values force the chunked-binding path. */
    uint64_t max_binding_bytes;
    /* For tests: at most this many workgroups per dimension of one vkCmdDispatch (0: the device's
     * maxComputeWorkGroupCount). Smaller values force the split-dispatch path. */
    uint32_t max_workgroups;
} vks_context_options_t;

/* Create a context. opts may be NULL (all defaults). On success *out is set. */
vks_status_t vks_context_create(const vks_context_options_t *opts, vks_context_t **out);
/* Destroy a context (saves the pipeline cache). Its models must be destroyed first, and no other
 * thread may be inside a vkstyle call on it. */
void vks_context_destroy(vks_context_t *ctx);
/* Number of validation warnings and errors seen so far (0 when validation is off). */
uint32_t vks_context_validation_messages(const vks_context_t *ctx);

typedef struct vks_device_info {
    char name[256];
    char type[16];           /* "discrete", "integrated", "virtual", "cpu", "other" */
    char driver[256];        /* driver name and info */
    uint32_t api_version;    /* VK_MAKE_API_VERSION packed */
    uint32_t vendor_id, device_id;
    uint32_t subgroup_size;
    uint32_t shared_memory;  /* maxComputeSharedMemorySize */
    uint64_t max_binding_bytes; /* maxStorageBufferRange */
    uint32_t max_push_constants;
    int fp16;                /* shaderFloat16 && storageBuffer16BitAccess */
    int int8;                /* shaderInt8 && storageBuffer8BitAccess */
    int timestamps;          /* timestamps on compute queues */
    char workarounds[64];    /* driver-bug workarounds vkstyle applies on this device, comma-separated, or "none" */
    uint64_t max_allocation; /* largest single allocation: min(maxMemoryAllocationSize, maxBufferSize) */
    uint32_t heap_count;
    uint64_t heap_size[16];
    int heap_device_local[16];
} vks_device_info_t;

/* Enumerate devices without creating a context: fills up to max entries of infos (may be
 * NULL when max is 0) and sets *count to the number of devices. */
vks_status_t vks_enumerate_devices(vks_device_info_t *infos, uint32_t max, uint32_t *count);
/* Information about the device a context uses. */
void vks_context_device_info(const vks_context_t *ctx, vks_device_info_t *info);
/* The device memory a session may use by default: 90% of the device's largest device-local heap. */
uint64_t vks_context_memory_budget(const vks_context_t *ctx);

/* ---------------------------------------------------------------- model */

typedef struct vks_model vks_model_t;

/* Load and validate a vkstyle model (safetensors + graph in __metadata__, see
 * docs/model-format.md) and upload its weights to the context's device. */
vks_status_t vks_model_load(vks_context_t *ctx, const char *path, vks_model_t **out);
/* Same, from memory (the bytes are not retained). */
vks_status_t vks_model_load_memory(vks_context_t *ctx, const void *data, size_t size,
                                   vks_model_t **out);
void vks_model_destroy(vks_model_t *model);
/* Number of styles (1 for single-style models) and the name of style i (NULL if out of range). */
uint32_t vks_model_style_count(const vks_model_t *model);
const char *vks_model_style_name(const vks_model_t *model, uint32_t i);
/* The model's name from its metadata ("" if none), control characters escaped as by
 * vks_escape_controls. */
const char *vks_model_name(const vks_model_t *model);

/* ---------------------------------------------------------------- session */

typedef struct vks_session vks_session_t;

/* A session runs the model on images of exactly width x height (RGB; or float tensors of that
 * size, VKS_TENSOR_F32 with vks_session_create_ex). It owns the activation arena, staging
 * buffers, descriptor sets and the recorded command buffer. Fails with VKS_ERR_TOO_LARGE if it
 * does not fit the device (see vks_session_fit; the message says why and which size would fit),
 * VKS_ERR_UNSUPPORTED for a model that does not take and give 3 channels (a pixel session). */
vks_status_t vks_session_create(vks_model_t *model, uint32_t width, uint32_t height,
                                vks_session_t **out);
void vks_session_destroy(vks_session_t *session);

/* Style weights for the following runs: gamma = sum w[s]*gamma[s], beta likewise (any finite
 * weights; no renormalization). count must be <= the model's style count (missing weights are
 * 0). Touches no buffer, pipeline or descriptor: the weights travel as push constants. */
vks_status_t vks_session_set_style_weights(vks_session_t *session, const float *weights,
                                           uint32_t count);

/* Stylize one image: in is width*height*channels bytes (channels 3 = RGB, 4 = RGBA, alpha
 * ignored and written as 255); out receives the same layout. in and out may alias. Needs a
 * session with the default formats (RGBA8 in and out). */
vks_status_t vks_session_run(vks_session_t *session, const uint8_t *in, uint8_t *out,
                             uint32_t channels);

/* Temporal stabilization for video (each call of vks_session_run / _run_raw is the next frame):
 * strength 0 is off (the default: each frame is stylized on its own, bit for bit as without this
 * call), 1 the strongest. On the GPU, in the session's command buffer: the optical flow from
 * this input back to the last one, and where the input did not change along it beyond noise the
 * output moves toward the previous output warped along the flow (motion-compensated recursive
 * filtering), within bounds on how far each pixel and the whole frame stray from the frame's own
 * stylization (both grow with the strength); a scene cut (a large change of the whole input)
 * starts afresh. Re-records the network (milliseconds); the first frame after turning it on is
 * stylized as if alone. VKS_ERR_INVALID_ARGUMENT outside [0, 1]; VKS_ERR_UNSUPPORTED for a
 * session run in tiles. */
vks_status_t vks_session_set_stabilize(vks_session_t *session, float strength);
/* The strength set (0: off). */
float vks_session_stabilize(const vks_session_t *session);
/* Forget the previous frames (a new scene, a new source): the next frame is stylized as if it were
 * the first. Nothing to do when stabilization is off. */
vks_status_t vks_session_reset_stabilize(vks_session_t *session);

/* Pixel layouts a session can take as input (vks_session_run_raw) and give as output. */
typedef enum vks_pixel_format {
    VKS_PIXELS_RGBA8,   /* 4 bytes per pixel, R G B A (alpha ignored on input, 255 on output) */
    VKS_PIXELS_BGRA8,   /* 4 bytes per pixel, B G R A (e.g. B8G8R8A8 swapchain images) */
    VKS_PIXELS_YUYV,    /* input only: 4:2:2 Y0 U Y1 V, BT.601 limited range; width must be even */
    /* Float tensors, input and output both (else VKS_ERR_INVALID_ARGUMENT): planar float32
     * [C][H][W]. In: C = the graph's "input.channels" (1..4096), w x h the session's size, fed to
     * the first layer as is (the graph's input scale/offset are not applied). Out: the last layer's
     * output as is (any channels and size: vks_session_output_shape; no crop, no clamp, the
     * graph's output scale/offset not applied). Activations are float32 (precision AUTO resolves
     * to FP32; FP16 is VKS_ERR_UNSUPPORTED), and such a session cannot run in tiles
     * (VKS_TILING_ALWAYS is VKS_ERR_UNSUPPORTED; with AUTO a size that does not fit is
     * VKS_ERR_TOO_LARGE), be stabilized or profiled. Pixel sessions need a model of 3 input and
     * 3 output channels (VKS_ERR_UNSUPPORTED otherwise). */
    VKS_TENSOR_F32,
} vks_pixel_format_t;

/* How activations are stored between layers. Weights, normalization statistics and all
 * arithmetic stay float32 either way. */
typedef enum vks_precision {
    VKS_PRECISION_FP32,   /* float32 activations (the default) */
    VKS_PRECISION_FP16,   /* float16 activations: half the memory and bandwidth; needs the device's
                           * shaderFloat16 and storageBuffer16BitAccess (VKS_ERR_UNSUPPORTED without) */
    VKS_PRECISION_AUTO,   /* FP16 where the device supports it, else FP32 */
} vks_precision_t;

/* What a session does with a size that does not fit the device in one piece. */
typedef enum vks_tiling {
    VKS_TILING_NEVER,    /* fail with VKS_ERR_TOO_LARGE (the default) */
    VKS_TILING_AUTO,     /* run it in tiles (vks_session_tiles) */
    VKS_TILING_ALWAYS,   /* run in tiles even when it would fit (tests, comparisons) */
} vks_tiling_t;

/* How a session picks each convolution's variant (Winograd F(2x2), F(4x4) or F(6x6), the direct
 * convolution's tile). AUTO: the choices cached for this device, driver version and vkstyle
 * version in the context's disk cache (beside the pipeline cache); a layer not cached yet is
 * timed there and then, each variant with timestamp queries, the fastest kept (the heuristic's own
 * unless another is at least 5% faster) and cached, for at
 * most VKSTYLE_TUNE_SECONDS (default 20) per session: layers past the bound run the heuristic
 * until a later session times them. Without a disk cache, with VKSTYLE_TUNE=0 in the
 * environment, or with a measurement knob that forces one variant everywhere (VKSTYLE_WINOGRAD=2
 * or 4, VKSTYLE_CONV_TILE), AUTO is OFF: a built-in heuristic. RETIME: time every layer now, without a bound,
 * and cache the choices. Untiled sessions only (tiled ones run the heuristic). Every variant gives
 * the same result within the tests' tolerances. */
typedef enum vks_tune { VKS_TUNE_AUTO = 0, VKS_TUNE_OFF, VKS_TUNE_RETIME } vks_tune_t;

typedef struct vks_session_options {
    vks_pixel_format_t input;   /* default RGBA8 */
    vks_pixel_format_t output;  /* RGBA8 or BGRA8; default RGBA8 */
    vks_precision_t precision;  /* default FP32 */
    /* Device memory the session may use, in bytes (0: vks_context_memory_budget; a larger value
     * is capped at that). */
    uint64_t max_memory;
    vks_tiling_t tiling;        /* default NEVER */
    /* Tiled sessions: called after each tile of a run with the tiles done and their number
     * (NULL: none). */
    void (*progress)(void *user, uint32_t done, uint32_t total);
    void *progress_user;
    /* Convolution variants chosen by measuring them on this device (see vks_session_tuning). */
    vks_tune_t tune;            /* default AUTO */
    /* Called while tuning, after each layer, with the layers done and their number (NULL: none;
     * gets progress_user). */
    void (*tune_progress)(void *user, uint32_t done, uint32_t total);
} vks_session_options_t;

/* vks_session_create with pixel formats (opts may be NULL: RGBA8 in and out). The conversion
 * from and to the formats runs on the GPU. */
vks_status_t vks_session_create_ex(vks_model_t *model, uint32_t width, uint32_t height,
                                   const vks_session_options_t *opts, vks_session_t **out);

/* Tiles a run of the session takes: 0 when it runs in one piece (one recorded network), else the
 * number of bands of rows over all its layers (each one submission). A tiled session runs the
 * network layer by layer in bands that fit its memory budget, with the activations in host memory
 * and each instance norm's statistics taken over the whole image: it gives the untiled result up
 * to rounding. It supports vks_session_run and vks_session_run_raw with an output buffer, not the
 * device-side output (vks_session_output_buffer), frame times or profiling. */
uint32_t vks_session_tiles(const vks_session_t *session);
/* Device memory the session holds, in bytes. */
uint64_t vks_session_device_bytes(const vks_session_t *session);

/* The precision the session runs at (FP32 or FP16; AUTO resolved at creation). */
vks_precision_t vks_session_precision(const vks_session_t *session);

/* Bytes of one input frame in the session's input format (w*h*4, w*h*2 for YUYV, C*h*w*4 for
 * VKS_TENSOR_F32). */
size_t vks_session_input_bytes(const vks_session_t *session);
/* Bytes of one output in the session's output format (w*h*4 for pixels, C*H*W*4 of the last
 * layer's output for VKS_TENSOR_F32). */
size_t vks_session_output_bytes(const vks_session_t *session);
/* The shape of the session's output: the last layer's channels and size for VKS_TENSOR_F32;
 * 4 (RGBA or BGRA) x h x w for pixel sessions. */
void vks_session_output_shape(const vks_session_t *session, uint32_t *c, uint32_t *h, uint32_t *w);

/* Stylize one frame in the session's input format. out (vks_session_output_bytes: w*h*4 bytes
 * in the output format for pixel sessions, the output tensor for VKS_TENSOR_F32) may
 * be NULL: the result then stays in the session's output buffer on the device only (see
 * vks_session_output_buffer in vkstyle_vulkan.h). Returns when the GPU has finished. */
vks_status_t vks_session_run_raw(vks_session_t *session, const void *in, void *out);

/* GPU time of the last run's network (input conversion to output conversion), in ms, from
 * timestamp queries; VKS_ERR_UNSUPPORTED when the device has no timestamps on its queue, or
 * before the first run. */
vks_status_t vks_session_last_gpu_ms(const vks_session_t *session, double *ms);

/* Bytes of device memory an FP32 session needs for this model at this size (see vks_session_fit
 * for any precision, and whether it fits). */
vks_status_t vks_session_memory_estimate(const vks_model_t *model, uint32_t width,
                                         uint32_t height, uint64_t *bytes);

/* Whether a session of this size with these options (NULL: defaults) fits the device in one
 * piece: its device memory within the budget (opts->max_memory), its activation arena and
 * staging buffers each within the largest allocation, and every dispatch it would record within
 * the device's binding and workgroup limits (a dry run of the recording vks_session_create_ex
 * makes). VKS_OK with *bytes the device memory it needs (bytes may be NULL); VKS_ERR_TOO_LARGE with
 * the reason in vks_last_error() when it does not fit; other errors for sizes no device can run
 * (e.g. smaller than the network's kernels). */
vks_status_t vks_session_fit(const vks_model_t *model, uint32_t width, uint32_t height,
                             const vks_session_options_t *opts, uint64_t *bytes);
/* The largest size with the aspect ratio of width x height, at most width x height, for which
 * vks_session_fit succeeds: the longer side is the largest that fits (one more does not, unless it
 * is the full size), the shorter one rounded to the aspect ratio. VKS_ERR_TOO_LARGE if none does. */
vks_status_t vks_session_largest_size(const vks_model_t *model, uint32_t width, uint32_t height,
                                      const vks_session_options_t *opts, uint32_t *fit_width,
                                      uint32_t *fit_height);

typedef struct vks_stats {
    uint64_t uploads;            /* buffer uploads (staging copies) */
    uint64_t pipelines_created;  /* pipelines created by the context */
    uint64_t descriptor_writes;  /* descriptor set updates */
    uint64_t main_recordings;    /* times the network command buffer was recorded */
    uint64_t style_recordings;   /* times the style-mix command buffer was recorded */
    uint64_t submits;
} vks_stats_t;

/* Counters for tests and benchmarks. */
void vks_session_stats(const vks_session_t *session, vks_stats_t *stats);

/* ---------------------------------------------------------------- benchmarking */

typedef struct vks_layer_profile {
    char name[64];
    char op[32];
    char shape[96];            /* e.g. "64x128x128 -> 128x64x64 k3 s2" (CxHxW) */
    double gpu_ms_median, gpu_ms_min, gpu_ms_max;
    double flops;              /* floating-point operations (an FMA counts 2) */
    double bytes;              /* bytes read and written, counting each tensor once */
    uint32_t dispatches;       /* compute dispatches the step records (0: a layer folded into another) */
} vks_layer_profile_t;

typedef struct vks_profile {
    uint32_t count;            /* steps: input conversion, every layer, output conversion */
    vks_layer_profile_t *steps;
    int timestamps;            /* 0: the device has no timestamps; GPU times are 0 */
    double gpu_ms_median, gpu_ms_min, gpu_ms_max;   /* whole frame on the GPU */
    double wall_ms_resident;   /* median submit-to-done, data resident on the GPU */
    double wall_ms_io;         /* median vks_session_run_raw, with upload and download */
    double flops, bytes;       /* whole frame */
    uint32_t dispatches;       /* the steps' together: what a device's fixed cost per dispatch is paid for */
} vks_profile_t;

/* Run the session warmup + iters times with timestamps between steps and fill *out (free with
 * vks_profile_free). Uses the current input contents. */
vks_status_t vks_session_profile(vks_session_t *session, uint32_t warmup, uint32_t iters, vks_profile_t *out);
void vks_profile_free(vks_profile_t *profile);

/* The GPU time of one shader variant in a frame (vks_session_profile_shaders). */
typedef struct vks_shader_time {
    char shader[48];           /* its name, as in the README's table of ops, e.g. "conv2d_wino4_in_xubo" */
    uint32_t dispatches;       /* its dispatches in a frame */
    double gpu_ms;             /* their time together in a frame, the median over the iterations */
} vks_shader_time_t;

/* Run the session warmup + iters times with a timestamp after every dispatch and return the time
 * of each shader variant the frame runs, most first, in *out (*count entries; free with
 * vks_shader_times_free). Each dispatch is timed with the barrier before it. Which shader to work
 * on, or how two drivers differ on the same code. VKS_ERR_UNSUPPORTED without timestamps, for a
 * session in tiles or one that takes float tensors. Uses the current input contents. */
vks_status_t vks_session_profile_shaders(vks_session_t *session, uint32_t warmup, uint32_t iters,
                                         vks_shader_time_t **out, uint32_t *count);
void vks_shader_times_free(vks_shader_time_t *times);

/* The tuner's choice for one layer that has more than one variant (vks_session_tuning). */
typedef struct vks_tune_trial {
    char variant[32];          /* e.g. "winograd F(4x4)", "direct 8px 16x4" */
    double ms;                 /* its GPU time for the layer (the best of a few runs) */
} vks_tune_trial_t;

#define VKS_TUNE_MAX_TRIALS 8
typedef struct vks_tune_layer {
    uint32_t layer;            /* index in the model */
    char name[64];
    char shape[96];            /* as in vks_layer_profile_t */
    uint32_t count;            /* trials timed (0: not timed, the heuristic runs: over the time bound) */
    vks_tune_trial_t trials[VKS_TUNE_MAX_TRIALS];
    uint32_t chosen;           /* index into trials of the variant that runs */
    int cached;                /* 1: the choice came from the cache (trials[0] is it, its time then) */
    double warmup_ms;          /* wall time the network ran before the timings, to raise a GPU's
                                  clocks (0 on CPU devices; VKSTYLE_TUNE_WARMUP_MS) */
} vks_tune_layer_t;

/* The tuner's choices, one entry per layer with more than one variant, as the session was created
 * (count 0, NULL: tuning was off, or the session runs in tiles). Valid while the session lives. */
const vks_tune_layer_t *vks_session_tuning(const vks_session_t *session, uint32_t *count);

typedef struct vks_peak {
    double fp32_gflops;        /* FMA throughput, independent vec4 chains */
    double fp16_gflops;        /* 0 when the device lacks shaderFloat16 */
    double copy_gbs;           /* vec4 copy bandwidth, bytes read + written per second */
    int timestamps;            /* 1 if timed with GPU timestamps, 0 if wall time */
    double dispatch_us;        /* one dispatch of almost no work and its barrier, in a chain of them:
                                  the least a network's step costs on the device */
} vks_peak_t;

/* Measure the device's own limits (the way vkpeak does); takes about a second. */
vks_status_t vks_measure_peak(vks_context_t *ctx, vks_peak_t *out);

#ifdef __cplusplus
}
#endif
#endif
