/* Engine internals shared by the engine, its ops and the tests. Not installed. */
#ifndef VKS_ENGINE_H
#define VKS_ENGINE_H

#include "config.h"
#include "error.h"
#include "vks_shaders.h"
#include "vkstyle/vkstyle.h"   /* defines VKS_MAX_STYLES as config.h does: C rejects (-Werror) a
                                  redefinition that differs, so the two cannot drift apart */

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <threads.h>
#include <volk.h>

/* ------------------------------------------------------------ Vulkan functions */

/* Nothing in the engine calls volk's process-wide function pointers (vkCmdDispatch, ...): a
 * context calls its instance through ctx->vki and its device through ctx->vk, both loaded for
 * that instance and that device, so contexts on devices of different drivers each reach their
 * own driver. volk_impl.c keeps volk's symbols to itself (none is exported by the library);
 * these two functions are the engine's only way into it. */

/* The Vulkan loader's vkGetInstanceProcAddr (libvulkan is opened once, thread-safe), or NULL
 * when there is no loader. Global commands (vkCreateInstance, vkEnumerateInstance*) come
 * from it with a NULL instance. */
PFN_vkGetInstanceProcAddr vks_vulkan_loader(void);
/* Fill a volk device table with the device's own entry points, through its instance's
 * vkGetDeviceProcAddr (volkLoadDeviceTable would go through volk's global one). */
void vks_load_device_table(struct VolkDeviceTable *table, VkDevice device, PFN_vkGetDeviceProcAddr gdpa);

/* The instance-level commands the engine uses: X(name) for each. */
#define VKS_INSTANCE_FUNCTIONS(X)                                                              \
    X(vkDestroyInstance) X(vkEnumeratePhysicalDevices) X(vkGetPhysicalDeviceProperties)        \
    X(vkGetPhysicalDeviceProperties2) X(vkGetPhysicalDeviceFeatures) X(vkGetPhysicalDeviceFeatures2)\
    X(vkGetPhysicalDeviceMemoryProperties) X(vkGetPhysicalDeviceQueueFamilyProperties)         \
    X(vkEnumerateDeviceExtensionProperties) X(vkCreateDevice) X(vkGetDeviceProcAddr)
/* Only on instances with VK_EXT_debug_utils (validation); NULL otherwise. */
#define VKS_DEBUG_UTILS_FUNCTIONS(X) X(vkCreateDebugUtilsMessengerEXT) X(vkDestroyDebugUtilsMessengerEXT)

typedef struct vks_instance_fns {
#define VKS_X_FN(name) PFN_##name name;
    VKS_INSTANCE_FUNCTIONS(VKS_X_FN)
    VKS_DEBUG_UTILS_FUNCTIONS(VKS_X_FN)
#undef VKS_X_FN
} vks_instance_fns_t;

/* ------------------------------------------------------------ context (context.c) */

typedef struct vks_pipeline vks_pipeline_t;

/* Driver-bug workarounds (context.c, driver_workarounds()). */
#define VKS_WA_UBO_ARRAY_INDEX_CLAMP (1u << 0)
#define VKS_WA_MEMFD_FILE_SIZE_LIMIT (1u << 1)

struct vks_context {
    VkInstance instance;
    vks_instance_fns_t vki;        /* this instance's commands */
    struct VolkDeviceTable vk;     /* this device's commands: ctx->vk.vkCmdDispatch(...) */
    VkDebugUtilsMessengerEXT messenger;
    VkPhysicalDevice phys;
    VkDevice device;
    VkQueue queue;                 /* submissions under queue_lock (vks_submit_wait) */
    uint32_t queue_family;
    VkPhysicalDeviceProperties props;
    VkPhysicalDeviceMemoryProperties mem;
    vks_device_info_t info;
    uint64_t max_binding;          /* bytes one descriptor may cover */
    uint32_t max_groups[3];        /* workgroups one vkCmdDispatch may have per dimension */
    bool fp16_enabled;             /* shaderFloat16 + storageBuffer16BitAccess enabled */
    bool conv_storage_weights;     /* never use the uniform-buffer conv shaders */
    bool scalar_ubo;               /* scalarBlockLayout enabled: the conv2d_xubo variants can be used */
    bool subgroup_add;             /* subgroup arithmetic in compute shaders: instance_norm_xubo can be used */
    bool subgroup_shuffle;         /* subgroup shuffles in compute shaders: the conv *_ubo variants and
                                      the xubo/mpos Winograd GEMMs can be used */
    uint32_t workarounds;          /* VKS_WA_* for this device's driver (driver_workarounds() in context.c) */
    bool guard_bindings;           /* tests: every dispatch's bindings between guard bytes (recorder.c) */
    bool tiles_no_mapped_memory;   /* tests: tiled sessions go through staging buffers (tiled.c) */
    bool clamp_ubo_array_index;    /* VKS_WA_UBO_ARRAY_INDEX_CLAMP, applied: the *_xubo shaders clamp */
    VkPipelineCache pcache;
    char cache_path[1024];         /* "" when the disk cache is off */
    /* Threads: sessions on one context may run on different threads at once. Everything a
     * session records into is its own (recorders own their command pools and descriptor pools);
     * what they share is locked here. queue_lock: vkQueueSubmit on `queue` (which Vulkan wants
     * externally synchronized) and the idle fences; pipeline_lock: `pipelines` (lookup and
     * creation); weights_lock: the weights a model's layers derive on first use (a layer's
     * wino_ready, conv2d.c). Counters that several threads bump (stats, shader_dispatches/splits)
     * are incremented atomically (vks_count). */
    mtx_t queue_lock, pipeline_lock, weights_lock;
    bool locks_made;
    VkFence *fences;               /* idle fences for vks_submit_wait, created on demand, owned here */
    uint32_t nfences, cap_fences;
    vks_pipeline_t **pipelines;    /* created on demand, owned here */
    size_t npipelines, cap_pipelines;
    atomic_uint validation_messages;
    int quiet_validation;
    vks_stats_t stats;             /* pipelines_created, uploads, submits */
    uint64_t shader_dispatches[VKS_SHADER_COUNT];   /* dispatches recorded per shader (test coverage) */
    uint64_t shader_splits[VKS_SHADER_COUNT];       /* of them, split for the workgroup limits */
};

/* Submit command buffers in one vkQueueSubmit and wait for them. Thread-safe: the submission
 * holds ctx->queue_lock, the wait does not (each call waits on a fence of its own). */
vks_status_t vks_submit_wait(vks_context_t *ctx, const VkCommandBuffer *cmds, uint32_t n);

/* The context's VkPipelineCache (cache.c), from <dir>/<vendor>-<device>-<cache UUID>.bin when that
 * file's header matches the device (dir: the cache_dir option, see vks_cache_path; "" keeps it in
 * memory only); destroy saves it there first, whole or not at all. */
vks_status_t vks_pipeline_cache_create(vks_context_t *ctx, const char *dir);
void vks_pipeline_cache_destroy(vks_context_t *ctx);

/* Add 1 to a counter other threads may be adding to as well (relaxed: counts, not ordering). */
static inline void vks_count(uint64_t *counter) { __atomic_fetch_add(counter, 1, __ATOMIC_RELAXED); }
/* Read such a counter. */
static inline uint64_t vks_counted(const uint64_t *counter) { return __atomic_load_n(counter, __ATOMIC_RELAXED); }

/* ------------------------------------------------------------ memory (memory.c) */

/* One VkBuffer over one VkDeviceMemory: everything of one lifetime is sub-allocated from a
 * block (the model's weights, a session's activation arena, staging). */
typedef struct vks_block {
    VkBuffer buffer;
    VkDeviceMemory memory;
    VkDeviceSize size;
    void *map;        /* persistently mapped when host-visible was asked for */
} vks_block_t;

/* DEVICE_MAPPED: device-local memory the host can map (lavapipe, integrated GPUs, resizable BAR),
 * VKS_ERR_UNSUPPORTED where there is none. */
typedef enum { VKS_MEM_DEVICE, VKS_MEM_UPLOAD, VKS_MEM_READBACK, VKS_MEM_DEVICE_MAPPED } vks_mem_kind_t;

vks_status_t vks_block_create(vks_context_t *ctx, VkDeviceSize size, vks_mem_kind_t kind,
                              vks_block_t *out);
void vks_block_destroy(vks_context_t *ctx, vks_block_t *b);
/* Copy bytes into / out of a device block through a temporary staging block (one submit). */
vks_status_t vks_block_upload(vks_context_t *ctx, vks_block_t *dst, VkDeviceSize offset,
                              const void *data, VkDeviceSize size);
vks_status_t vks_block_download(vks_context_t *ctx, vks_block_t *src, VkDeviceSize offset,
                                void *data, VkDeviceSize size);

static inline VkDeviceSize vks_align(VkDeviceSize x, VkDeviceSize a) { return (x + a - 1) / a * a; }

/* ------------------------------------------------------------ tensors (tensor.c) */

/* An NCHW tensor of float32 (esize 4) or float16 (esize 2, fp16 sessions' activations) elements
 * at an offset in a block; each channel plane is padded to 256 bytes (plane_stride elements), so
 * channel c of sample n starts at element (n*c_total + c) * plane_stride. Weights are float32,
 * stored unpadded (flat, plane_stride = count). */
typedef struct vks_tensor {
    vks_block_t *block;
    VkDeviceSize offset;   /* bytes, 256-aligned */
    uint32_t n, c, h, w;
    uint32_t plane_stride; /* elements between channel planes */
    uint32_t esize;        /* bytes per element: 4 (float) or 2 (float16) */
} vks_tensor_t;

/* Plane stride (elements) for an activation of h x w with esize-byte elements. */
uint32_t vks_plane_stride(uint32_t h, uint32_t w, uint32_t esize);
VkDeviceSize vks_tensor_bytes(const vks_tensor_t *t);
/* Describe an activation tensor (plane padded; esize 4 or 2) / a flat float tensor of count. */
vks_tensor_t vks_tensor_act(vks_block_t *b, VkDeviceSize off, uint32_t n, uint32_t c, uint32_t h,
                            uint32_t w, uint32_t esize);
vks_tensor_t vks_tensor_flat(vks_block_t *b, VkDeviceSize off, uint32_t count);
/* Host <-> device for activation tensors: host data is dense NCHW float; plane padding and
 * float16 conversion handled. */
vks_status_t vks_tensor_upload(vks_context_t *ctx, const vks_tensor_t *t, const float *data);
vks_status_t vks_tensor_download(vks_context_t *ctx, const vks_tensor_t *t, float *data);
/* Dense NCHW float data into the tensor's layout in dst (vks_tensor_bytes), as vks_tensor_upload
 * sends it; each plane's padding in dst is left as it was. */
void vks_tensor_pack(const vks_tensor_t *t, const float *data, void *dst);

/* How many channel planes of `plane_bytes` one binding may cover (>= 1), or 0 if not even one. */
uint32_t vks_channels_per_binding(const vks_context_t *ctx, VkDeviceSize plane_bytes);

/* ------------------------------------------------------------ pipelines (pipeline.c) */

#define VKS_MAX_SPEC 16
#define VKS_MAX_BINDINGS 20   /* descriptors one dispatch binds (array elements included) */

struct vks_pipeline {
    vks_shader_id_t shader;
    uint32_t spec[VKS_MAX_SPEC];
    uint32_t nspec;
    uint32_t nbindings;
    uint32_t last_count;     /* descriptors in the last binding (an array when > 1) */
    uint32_t ubo_mask;       /* bit i: binding i is a uniform buffer (else storage) */
    uint32_t push_size;
    VkDescriptorSetLayout dsl;
    VkPipelineLayout layout;
    VkPipeline pipeline;
};

/* Get (create once, then cached in the context) the pipeline for a shader with these
 * specialization constants (constant_id i = spec[i]), nbindings buffers at bindings
 * 0..nbindings-1 (uniform buffers where ubo_mask has the bit, else storage buffers) and a
 * push-constant block of push_size bytes. */
vks_status_t vks_pipeline_get(vks_context_t *ctx, vks_shader_id_t shader, const uint32_t *spec,
                              uint32_t nspec, uint32_t nbindings, uint32_t ubo_mask, uint32_t push_size,
                              const vks_pipeline_t **out);
/* The same with an array of last_count descriptors as the last binding: a dispatch then passes
 * nbindings - 1 + last_count bindings, the array's elements last. */
vks_status_t vks_pipeline_get_array(vks_context_t *ctx, vks_shader_id_t shader, const uint32_t *spec,
                                    uint32_t nspec, uint32_t nbindings, uint32_t ubo_mask, uint32_t push_size,
                                    uint32_t last_count, const vks_pipeline_t **out);
void vks_pipelines_destroy(vks_context_t *ctx);
/* Check a pipeline request and fill *p with its description (no Vulkan object). */
vks_status_t vks_pipeline_describe(const vks_context_t *ctx, vks_shader_id_t shader, const uint32_t *spec,
                                   uint32_t nspec, uint32_t nbindings, uint32_t ubo_mask, uint32_t push_size,
                                   uint32_t last_count, vks_pipeline_t *p);

/* ------------------------------------------------------------ recording (recorder.c) */

/* A byte range of a block bound to one storage-buffer binding. */
typedef struct vks_binding {
    const vks_block_t *block;
    VkDeviceSize offset, size;
    bool write;
} vks_binding_t;

/* The recorder's log of what it recorded, for tests of barrier placement. */
typedef struct vks_rec_event {
    enum { VKS_EV_DISPATCH, VKS_EV_BARRIER, VKS_EV_COPY } kind;
    vks_shader_id_t shader;   /* dispatches */
    uint32_t nbindings;
    vks_binding_t bindings[VKS_MAX_BINDINGS];
} vks_rec_event_t;

/* Guard mode (ctx->guard_bindings, set by the op tests): every binding of a dispatch is copied
 * into a region of its own between VKS_GUARD_BYTES of VKS_GUARD_PATTERN bytes (float and half
 * NaN), the dispatch runs on the copies, and written bindings are copied back. A storage
 * binding's descriptor range also covers the guard after it (drivers that bounds-check, such as
 * lavapipe, would otherwise drop an overrunning write unseen). After the submission
 * vks_rec_check_guards() finds any byte a shader wrote outside its op's range; a read past it
 * meets NaN, which the op tests' comparisons against the C references catch. */
#define VKS_GUARD_BYTES 256
#define VKS_GUARD_PATTERN 0xFF
typedef struct vks_guard {
    uint32_t block;                /* index into vks_rec_t.guard_blocks */
    VkDeviceSize offset, size;     /* the copy of the binding; guards before and after it */
    vks_shader_id_t shader;
    uint32_t dispatch, binding;
} vks_guard_t;

typedef struct vks_rec {
    vks_context_t *ctx;
    bool dry;                      /* vks_rec_begin_dry: check every dispatch, record nothing */
    bool ended;                    /* recorded whole (vks_rec_end succeeded): the only state to submit */
    vks_pipeline_t **stubs;        /* dry: the pipelines' descriptions */
    uint32_t nstubs;
    VkCommandPool cmd_pool;        /* its own: a pool may be used by one thread at a time */
    VkCommandBuffer cmd;
    VkDescriptorPool *pools;
    uint32_t npools;
    uint32_t sets_left;            /* in the newest pool */
    vks_binding_t *pending;        /* accesses since the last barrier */
    uint32_t npending, cap_pending;
    bool log_enabled;
    vks_rec_event_t *log;
    uint32_t nlog, cap_log;
    uint64_t dispatches, descriptor_writes;
    uint64_t split_pieces;         /* vkCmdDispatch calls of dispatches split for the device's limits */
    uint64_t *marks;               /* NULL, or dispatches at each of vks_session_record's timestamps */
    VkQueryPool dispatch_ts;       /* NULL, or a timestamp after every dispatch (vks_session_profile_shaders):
                                      query 0 written by the caller, n + 1 after dispatch n */
    uint32_t dispatch_ts_cap, dispatch_ts_n;   /* its queries; the dispatches met (may pass cap - 1) */
    vks_shader_id_t *dispatch_shader;          /* the shader of each timed dispatch (cap - 1 entries) */
    vks_block_t *guard_blocks;     /* guard mode: host-visible blocks of guarded copies */
    uint32_t nguard_blocks;
    VkDeviceSize guard_used;       /* in the newest guard block */
    vks_guard_t *guards;
    uint32_t nguards, cap_guards;
    struct {                       /* the last dispatch, for vks_rec_rerecord_single */
        const vks_pipeline_t *pipe;
        VkDescriptorSet set;
        uint32_t groups[3];
    } last;
} vks_rec_t;

/* Create the recorder's command pool, allocate a primary command buffer from it and begin
 * recording (not one-time: it is re-submitted). A recorder is used by one thread at a time;
 * different recorders of one context may record on different threads at once. */
vks_status_t vks_rec_begin(vks_context_t *ctx, vks_rec_t *rec, bool log);
/* A dry recorder: ops record into it exactly as into a real one, and each dispatch is checked
 * against the device's limits (bindings, alignment, workgroups), but no Vulkan object is created
 * and nothing is recorded; the tensors' blocks need not exist. How the engine knows, before it
 * allocates anything, that a session of a size will work (graph.c). */
vks_status_t vks_rec_begin_dry(vks_context_t *ctx, vks_rec_t *rec);
/* The pipeline an op dispatches into rec: vks_pipeline_get_array(), or for a dry recorder its
 * description only. */
vks_status_t vks_rec_pipeline(vks_rec_t *rec, vks_shader_id_t shader, const uint32_t *spec, uint32_t nspec,
                              uint32_t nbindings, uint32_t ubo_mask, uint32_t push_size, uint32_t last_count,
                              const vks_pipeline_t **out);
/* Record a dispatch; inserts a barrier first when a binding overlaps an access since the last
 * barrier in a way that is a hazard (read-after-write, write-after-read, write-after-write).
 * A dispatch of more workgroups than the device allows per dimension (ctx->max_groups) is
 * recorded as several, each given its first workgroup in the last 12 bytes of its push constants,
 * for shaders marked `// vks:wg-base` (cmake/shaders.cmake); for others it is an error. */
vks_status_t vks_rec_dispatch(vks_rec_t *rec, const vks_pipeline_t *p, const vks_binding_t *b,
                              uint32_t nb, const void *push, uint32_t gx, uint32_t gy,
                              uint32_t gz);
vks_status_t vks_rec_copy(vks_rec_t *rec, const vks_block_t *src, VkDeviceSize src_off,
                          const vks_block_t *dst, VkDeviceSize dst_off, VkDeviceSize size);
/* End recording; the last barrier makes writes visible to the host. */
vks_status_t vks_rec_end(vks_rec_t *rec);
/* Reset to record again (keeps the command buffer; frees descriptor sets and log). */
vks_status_t vks_rec_reset(vks_rec_t *rec);
/* Guard mode: after the recorder's command buffer has run, fail naming the dispatch, shader and
 * binding if any guard byte around a binding's copy was overwritten (VKS_OK when not in guard mode). */
vks_status_t vks_rec_check_guards(const vks_rec_t *rec);
void vks_rec_destroy(vks_rec_t *rec);
/* For a recorder that holds exactly one dispatch: record it again with new push constants,
 * reusing its pipeline and descriptor set (no descriptor is written). */
vks_status_t vks_rec_rerecord_single(vks_rec_t *rec, const void *push);

/* Bind a whole tensor, or channels [c0, c0+nc) of every sample in sample n. */
vks_binding_t vks_bind(const vks_tensor_t *t, bool write);
vks_binding_t vks_bind_channels(const vks_tensor_t *t, uint32_t n, uint32_t c0, uint32_t nc,
                                bool write);

static inline uint32_t vks_div_up(uint32_t a, uint32_t b) { return (a + b - 1) / b; }

#endif
