/* Instance, device choice, queue and its lock, validation messages. The pipeline cache on disk
 * is cache.c's. */
#include "engine.h"
#include "vkstyle/vkstyle_vulkan.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static VKAPI_ATTR VkBool32 VKAPI_CALL on_debug_message(
    VkDebugUtilsMessageSeverityFlagBitsEXT severity, VkDebugUtilsMessageTypeFlagsEXT type,
    const VkDebugUtilsMessengerCallbackDataEXT *data, void *user)
{
    (void)type;
    vks_context_t *ctx = user;
    if (severity < VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT) return VK_FALSE;
    atomic_fetch_add(&ctx->validation_messages, 1);
    if (!ctx->quiet_validation)
        fprintf(stderr, "vkstyle: validation %s: %s\n",
                severity >= VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT ? "error" : "warning",
                data->pMessage);
    return VK_FALSE;
}

static bool env_flag(const char *name)
{
    const char *v = getenv(name);
    return v && *v && strcmp(v, "0") != 0;
}

static bool has_layer(const char *name)
{
    PFN_vkEnumerateInstanceLayerProperties enum_layers =
        (PFN_vkEnumerateInstanceLayerProperties)vks_vulkan_loader()(NULL, "vkEnumerateInstanceLayerProperties");
    uint32_t n = 0;
    if (!enum_layers || enum_layers(&n, NULL) != VK_SUCCESS || n == 0) return false;
    VkLayerProperties *props = calloc(n, sizeof *props);
    bool found = false;
    if (props && enum_layers(&n, props) >= 0)
        for (uint32_t i = 0; i < n && !found; i++) found = !strcmp(props[i].layerName, name);
    free(props);
    return found;
}

static const char *type_name(VkPhysicalDeviceType t)
{
    switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return "discrete";
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return "integrated";
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return "virtual";
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return "cpu";
    default: return "other";
    }
}

static int type_rank(VkPhysicalDeviceType t)
{
    switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return 0;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return 1;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return 2;
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return 3;
    default: return 4;
    }
}

static bool compute_queue(const vks_instance_fns_t *vi, VkPhysicalDevice pd, uint32_t *family, uint32_t *ts_bits)
{
    uint32_t n = 0;
    vi->vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, NULL);
    VkQueueFamilyProperties q[32];
    if (n > 32) n = 32;
    vi->vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, q);
    for (uint32_t i = 0; i < n; i++)
        if (q[i].queueFlags & VK_QUEUE_COMPUTE_BIT) {
            *family = i;
            *ts_bits = q[i].timestampValidBits;
            return true;
        }
    return false;
}

/* Driver-bug workarounds, chosen by driver and version; each names its repro under tests/.
 *
 * ubo-array-index-clamp: a loop over an array of uniform blocks, xu[ci] for ci < n, crashes in
 * Mesa 25.0.7 lavapipe: the loop's exiting iteration (ci == n == the array size) still reads
 * the descriptor one past the array and dereferences it (tests/driver_bugs/
 * ubo_array_speculation.c; ctest driver_bug_ubo_array_speculation). The *_xubo convolutions then
 * index xu[min(ci / CPB, VKS_X_UBOS - 1)], a specialization constant. Mesa 22.3.6 lavapipe runs
 * the unclamped loop correctly, so lavapipe before 23.0 goes without (the versions between
 * 22.3.6 and 25.0.7 were not tested: from 23.0 on the clamp is applied); every other driver gets
 * it, since a uniform min costs nothing measurable and no other driver has been tested yet.
 *
 * memfd-file-size-limit: Mesa 25.0.7 lavapipe backs every allocation with a memfd that it
 * ftruncate()s to the allocation's size; under a file-size limit (ulimit -f) smaller than that,
 * ftruncate fails (EFBIG, and SIGXFSZ), the driver maps the file anyway and the first access
 * dies of SIGBUS. vks_block_create() then refuses such an allocation with a message instead.
 * Mesa 22.3.6 lavapipe allocates with malloc; lavapipe from 23.0 on gets the check (versions
 * between were not tested). */
static uint32_t driver_workarounds(VkDriverId id, const char *driver_info)
{
    /* Mesa drivers report driverVersion 1 (lavapipe) or a packed version that differs per
     * driver; driverInfo starts "Mesa MAJOR.MINOR.PATCH" on all of them */
    int mesa_major = 0, mesa_minor = 0;
    if (sscanf(driver_info, "Mesa %d.%d", &mesa_major, &mesa_minor) != 2) mesa_major = 0;
    uint32_t w = 0;
    bool old_lavapipe = id == VK_DRIVER_ID_MESA_LLVMPIPE && mesa_major > 0 && mesa_major < 23;
    if (!old_lavapipe) w |= VKS_WA_UBO_ARRAY_INDEX_CLAMP;
    if (id == VK_DRIVER_ID_MESA_LLVMPIPE && !old_lavapipe) w |= VKS_WA_MEMFD_FILE_SIZE_LIMIT;
    return w;
}

static void workaround_names(uint32_t w, char *out, size_t size)
{
    snprintf(out, size, "%s%s%s", w & VKS_WA_UBO_ARRAY_INDEX_CLAMP ? "ubo-array-index-clamp" : "",
             (w & VKS_WA_UBO_ARRAY_INDEX_CLAMP) && (w & VKS_WA_MEMFD_FILE_SIZE_LIMIT) ? "," : "",
             w & VKS_WA_MEMFD_FILE_SIZE_LIMIT ? "memfd-file-size-limit" : w ? "" : "none");
}

static void fill_info(const vks_instance_fns_t *vi, VkPhysicalDevice pd, vks_device_info_t *info, uint32_t *workarounds,
                      bool *subgroup_add, bool *subgroup_shuffle)
{
    memset(info, 0, sizeof *info);
    VkPhysicalDeviceSubgroupProperties sub = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES};
    VkPhysicalDeviceDriverProperties drv = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES, .pNext = &sub};
    VkPhysicalDeviceMaintenance3Properties m3 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES, .pNext = &drv};
    VkPhysicalDeviceMaintenance4Properties m4 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_4_PROPERTIES, .pNext = &m3};
    VkPhysicalDeviceProperties base;
    vi->vkGetPhysicalDeviceProperties(pd, &base);
    /* chain only the structures the device's Vulkan version knows */
    VkPhysicalDeviceProperties2 p2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
                                      .pNext = base.apiVersion >= VK_API_VERSION_1_3 ? (void *)&m4 : (void *)&m3};
    if (base.apiVersion < VK_API_VERSION_1_2) m3.pNext = &sub;
    vi->vkGetPhysicalDeviceProperties2(pd, &p2);
    const VkPhysicalDeviceProperties *p = &p2.properties;
    /* one block is one VkBuffer and one VkDeviceMemory: both limits bound it */
    info->max_allocation = m3.maxMemoryAllocationSize ? m3.maxMemoryAllocationSize : (1ull << 30);
    if (base.apiVersion >= VK_API_VERSION_1_3 && m4.maxBufferSize && m4.maxBufferSize < info->max_allocation)
        info->max_allocation = m4.maxBufferSize;
    snprintf(info->name, sizeof info->name, "%s", p->deviceName);
    snprintf(info->type, sizeof info->type, "%s", type_name(p->deviceType));
    if (p->apiVersion >= VK_API_VERSION_1_2)
        snprintf(info->driver, sizeof info->driver, "%s %s", drv.driverName, drv.driverInfo);
    else
        snprintf(info->driver, sizeof info->driver, "driver version 0x%x", p->driverVersion);
    info->api_version = p->apiVersion;
    uint32_t wa = driver_workarounds(base.apiVersion >= VK_API_VERSION_1_2 ? drv.driverID : 0,
                                     base.apiVersion >= VK_API_VERSION_1_2 ? drv.driverInfo : "");
    workaround_names(wa, info->workarounds, sizeof info->workarounds);
    if (workarounds) *workarounds = wa;
    info->vendor_id = p->vendorID;
    info->device_id = p->deviceID;
    info->subgroup_size = sub.subgroupSize;
    bool compute = base.apiVersion >= VK_API_VERSION_1_1 && (sub.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT);
    if (subgroup_add) *subgroup_add = compute && (sub.supportedOperations & VK_SUBGROUP_FEATURE_ARITHMETIC_BIT);
    if (subgroup_shuffle) *subgroup_shuffle = compute && (sub.supportedOperations & VK_SUBGROUP_FEATURE_SHUFFLE_BIT);
    info->shared_memory = p->limits.maxComputeSharedMemorySize;
    info->max_binding_bytes = p->limits.maxStorageBufferRange;
    info->max_push_constants = p->limits.maxPushConstantsSize;

    VkPhysicalDeviceShaderFloat16Int8Features f16 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES};
    VkPhysicalDevice16BitStorageFeatures s16 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES, .pNext = &f16};
    VkPhysicalDevice8BitStorageFeatures s8 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_8BIT_STORAGE_FEATURES, .pNext = &s16};
    VkPhysicalDeviceFeatures2 f2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &s8};
    if (p->apiVersion >= VK_API_VERSION_1_2) {
        vi->vkGetPhysicalDeviceFeatures2(pd, &f2);
        info->fp16 = f16.shaderFloat16 && s16.storageBuffer16BitAccess;
        info->int8 = f16.shaderInt8 && s8.storageBuffer8BitAccess;
    }
    uint32_t fam, ts_bits = 0;
    info->timestamps = compute_queue(vi, pd, &fam, &ts_bits) && ts_bits > 0 &&
                       p->limits.timestampPeriod > 0;
    VkPhysicalDeviceMemoryProperties mem;
    vi->vkGetPhysicalDeviceMemoryProperties(pd, &mem);
    info->heap_count = mem.memoryHeapCount < 16 ? mem.memoryHeapCount : 16;
    for (uint32_t i = 0; i < info->heap_count; i++) {
        info->heap_size[i] = mem.memoryHeaps[i].size;
        info->heap_device_local[i] = !!(mem.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT);
    }
}

/* The instance's own commands (the loader's vkGetInstanceProcAddr for this instance). */
static vks_status_t load_instance_fns(VkInstance inst, bool debug_utils, vks_instance_fns_t *vi)
{
    PFN_vkGetInstanceProcAddr gipa = vks_vulkan_loader();
    memset(vi, 0, sizeof *vi);
#define VKS_X_LOAD(name)                                                                   \
    if (!(vi->name = (PFN_##name)gipa(inst, #name)))                                       \
        return vks_fail(VKS_ERR_VULKAN, "the Vulkan loader has no " #name);
    VKS_INSTANCE_FUNCTIONS(VKS_X_LOAD)
    if (debug_utils) { VKS_DEBUG_UTILS_FUNCTIONS(VKS_X_LOAD) }
#undef VKS_X_LOAD
    return VKS_OK;
}

/* An instance and its commands in *vi (the debug-utils ones too when validating). */
static vks_status_t create_instance(bool validation, const char *const *extra, uint32_t nextra, VkInstance *out,
                                    vks_instance_fns_t *vi)
{
    VkApplicationInfo app = {
        .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
        .pApplicationName = "vkstyle",
        .apiVersion = VK_API_VERSION_1_2,
    };
    const char *layers[] = {"VK_LAYER_KHRONOS_validation"};
    const char *exts[17] = {VK_EXT_DEBUG_UTILS_EXTENSION_NAME};
    uint32_t next = validation ? 1 : 0;
    if (nextra > 16) return vks_fail(VKS_ERR_INVALID_ARGUMENT, "too many instance extensions");
    for (uint32_t i = 0; i < nextra; i++) exts[next++] = extra[i];
    VkInstanceCreateInfo ci = {
        .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
        .pApplicationInfo = &app,
        .enabledLayerCount = validation ? 1 : 0,
        .ppEnabledLayerNames = layers,
        .enabledExtensionCount = next,
        .ppEnabledExtensionNames = exts,
    };
    vks_status_t st = VKS_OK;
    PFN_vkCreateInstance create = (PFN_vkCreateInstance)vks_vulkan_loader()(NULL, "vkCreateInstance");
    if (!create) return vks_fail(VKS_ERR_NO_DEVICE, "the Vulkan loader has no vkCreateInstance");
    VKS_VK(create(&ci, NULL, out));
    if ((st = load_instance_fns(*out, validation, vi))) {
        if (vi->vkDestroyInstance) vi->vkDestroyInstance(*out, NULL);
        goto fail;
    }
    return VKS_OK;
fail:
    *out = VK_NULL_HANDLE;
    return st;
}

static bool device_has_extension(const vks_instance_fns_t *vi, VkPhysicalDevice pd, const char *name)
{
    uint32_t n = 0;
    if (vi->vkEnumerateDeviceExtensionProperties(pd, NULL, &n, NULL) != VK_SUCCESS || !n) return false;
    VkExtensionProperties *e = calloc(n, sizeof *e);
    bool found = false;
    if (e && vi->vkEnumerateDeviceExtensionProperties(pd, NULL, &n, e) >= 0)
        for (uint32_t i = 0; i < n && !found; i++) found = !strcmp(e[i].extensionName, name);
    free(e);
    return found;
}

static vks_status_t need_loader(void)
{
    if (!vks_vulkan_loader())
        return vks_fail(VKS_ERR_NO_DEVICE,
                        "no Vulkan loader found (install libvulkan1 and a driver, e.g. "
                        "mesa-vulkan-drivers)");
    return VKS_OK;
}

/* Physical devices of the instance, in enumeration order. Caller frees. */
static vks_status_t list_devices(const vks_instance_fns_t *vi, VkInstance inst, VkPhysicalDevice **out, uint32_t *n)
{
    vks_status_t st = VKS_OK;
    *out = NULL;
    *n = 0;
    VKS_VK(vi->vkEnumeratePhysicalDevices(inst, n, NULL));
    if (*n == 0) return vks_fail(VKS_ERR_NO_DEVICE, "no Vulkan device found (install a driver, e.g. mesa-vulkan-drivers for the CPU)");
    *out = calloc(*n, sizeof **out);
    if (!*out) {
        st = vks_fail(VKS_ERR_OUT_OF_HOST_MEMORY, "out of host memory");
        goto fail;
    }
    VKS_VK(vi->vkEnumeratePhysicalDevices(inst, n, *out));
    return VKS_OK;
fail:   /* no devices to the caller on any failure (it loops over *n of *out) */
    free(*out);
    *out = NULL;
    *n = 0;
    return st;
}

vks_status_t vks_enumerate_devices(vks_device_info_t *infos, uint32_t max, uint32_t *count)
{
    vks_status_t st = need_loader();
    if (st) return st;
    VkInstance inst;
    vks_instance_fns_t vi;
    VkPhysicalDevice *pds = NULL;
    uint32_t n = 0;
    if ((st = create_instance(false, NULL, 0, &inst, &vi))) return st;
    st = list_devices(&vi, inst, &pds, &n);
    if (st == VKS_ERR_NO_DEVICE) { st = VKS_OK; n = 0; }
    for (uint32_t i = 0; i < n && i < max; i++) fill_info(&vi, pds[i], &infos[i], NULL, NULL, NULL);
    *count = n;
    free(pds);
    vi.vkDestroyInstance(inst, NULL);
    return st;
}

static bool contains_ci(const char *hay, const char *needle)
{
    size_t nl = strlen(needle);
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < nl && hay[i] && tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i])) i++;
        if (i == nl) return true;
    }
    return nl == 0;
}

static vks_status_t choose_device(const vks_instance_fns_t *vi, VkInstance inst, const char *want,
                                  VkPhysicalDevice *out, uint32_t *family)
{
    VkPhysicalDevice *pds;
    uint32_t n;
    vks_status_t st = list_devices(vi, inst, &pds, &n);
    if (st) return st;
    int best = -1, best_rank = 99;
    uint32_t fam = 0, ts;
    char *end = NULL;
    long idx = want && *want ? strtol(want, &end, 10) : -1;
    bool by_index = want && *want && end && *end == 0;
    for (uint32_t i = 0; i < n; i++) {
        VkPhysicalDeviceProperties p;
        vi->vkGetPhysicalDeviceProperties(pds[i], &p);
        if (p.apiVersion < VK_API_VERSION_1_1 || !compute_queue(vi, pds[i], &fam, &ts)) continue;
        if (by_index) {
            if ((long)i == idx) best = (int)i;
        } else if (want && *want) {
            if (best < 0 && contains_ci(p.deviceName, want)) best = (int)i;
        } else if (type_rank(p.deviceType) < best_rank) {
            best = (int)i;
            best_rank = type_rank(p.deviceType);
        }
    }
    if (best < 0) {
        free(pds);
        if (want && *want)
            return vks_fail(VKS_ERR_NO_DEVICE, "no Vulkan 1.1 compute device matches '%s' (see 'vkstyle devices')", want);
        return vks_fail(VKS_ERR_NO_DEVICE, "no Vulkan device with Vulkan 1.1 and a compute queue");
    }
    *out = pds[best];
    compute_queue(vi, *out, family, &ts);
    free(pds);
    return VKS_OK;
}

/* Validation messages (warnings and errors) reach on_debug_message, which counts them. */
static vks_status_t create_messenger(vks_context_t *ctx)
{
    vks_status_t st = VKS_OK;
    VkDebugUtilsMessengerCreateInfoEXT mi = {
        .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
        .messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
                           VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT,
        .messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
                       VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                       VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT,
        .pfnUserCallback = on_debug_message,
        .pUserData = ctx,
    };
    VKS_VK_NEW(ctx->vki.vkCreateDebugUtilsMessengerEXT(ctx->instance, &mi, NULL, &ctx->messenger), ctx->messenger);
    return VKS_OK;
fail:
    return st;
}

/* The binding range and workgroup counts the engine keeps to: the device's, or smaller ones that
 * tests ask for to force the chunked and split paths. */
static void apply_limits(vks_context_t *ctx, const vks_context_options_t *opts)
{
    ctx->max_binding = ctx->props.limits.maxStorageBufferRange;
    if (opts->max_binding_bytes && opts->max_binding_bytes < ctx->max_binding)
        ctx->max_binding = opts->max_binding_bytes;
    for (int d = 0; d < 3; d++) {
        ctx->max_groups[d] = ctx->props.limits.maxComputeWorkGroupCount[d];
        if (opts->max_workgroups && opts->max_workgroups < ctx->max_groups[d]) ctx->max_groups[d] = opts->max_workgroups;
    }
}

/* The logical device with one compute queue, the features the shaders use where the device has
 * them (fp16, scalar block layout for the xubo variants), and its function table. */
static vks_status_t create_device(vks_context_t *ctx, const vks_context_options_t *opts)
{
    vks_status_t st = VKS_OK;
    float prio = 1.0f;
    VkDeviceQueueCreateInfo qci = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
        .queueFamilyIndex = ctx->queue_family,
        .queueCount = 1,
        .pQueuePriorities = &prio,
    };
    const char *dev_exts[] = {VK_KHR_SWAPCHAIN_EXTENSION_NAME};
    if (opts->swapchain && !device_has_extension(&ctx->vki, ctx->phys, VK_KHR_SWAPCHAIN_EXTENSION_NAME)) {
        st = vks_fail(VKS_ERR_UNSUPPORTED, "%s cannot present to a window (no VK_KHR_swapchain)", ctx->info.name);
        return st;
    }
    /* fp16 arithmetic and storage where the device has them (fp16 precision, --peak) */
    VkPhysicalDeviceShaderFloat16Int8Features f16 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES, .shaderFloat16 = VK_TRUE};
    VkPhysicalDevice16BitStorageFeatures s16 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES, .pNext = &f16, .storageBuffer16BitAccess = VK_TRUE};
    ctx->fp16_enabled = ctx->info.fp16;
    /* scalar block layout where the device has it: the conv2d_xubo variant reads the input as float
     * arrays in uniform buffers */
    VkPhysicalDeviceScalarBlockLayoutFeatures sbl = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SCALAR_BLOCK_LAYOUT_FEATURES};
    if (ctx->props.apiVersion >= VK_API_VERSION_1_2) {
        VkPhysicalDeviceFeatures2 q = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &sbl};
        ctx->vki.vkGetPhysicalDeviceFeatures2(ctx->phys, &q);
    }
    VkPhysicalDeviceFeatures core;
    ctx->vki.vkGetPhysicalDeviceFeatures(ctx->phys, &core);
    ctx->scalar_ubo = sbl.scalarBlockLayout && core.shaderUniformBufferArrayDynamicIndexing &&
                      ctx->props.limits.maxPerStageDescriptorUniformBuffers >= 1 + VKS_X_UBOS &&
                      ctx->props.limits.maxUniformBufferRange >= VKS_UBO_BYTES;
    /* the *_xubo shaders index their array of uniform buffers with a (dynamically uniform) loop counter */
    VkPhysicalDeviceFeatures enabled = {.shaderUniformBufferArrayDynamicIndexing = ctx->scalar_ubo};
    ctx->clamp_ubo_array_index = ctx->workarounds & VKS_WA_UBO_ARRAY_INDEX_CLAMP;
    sbl.pNext = ctx->fp16_enabled ? (void *)&s16 : NULL;
    sbl.scalarBlockLayout = VK_TRUE;
    VkDeviceCreateInfo dci = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
        .pNext = ctx->scalar_ubo ? (void *)&sbl : ctx->fp16_enabled ? (void *)&s16 : NULL,
        .queueCreateInfoCount = 1,
        .pQueueCreateInfos = &qci,
        .enabledExtensionCount = opts->swapchain ? 1 : 0,
        .pEnabledFeatures = &enabled,
        .ppEnabledExtensionNames = dev_exts,
    };
    VKS_VK_NEW(ctx->vki.vkCreateDevice(ctx->phys, &dci, NULL, &ctx->device), ctx->device);
    /* this device's entry points (straight into its driver, or the validation layer) */
    vks_load_device_table(&ctx->vk, ctx->device, ctx->vki.vkGetDeviceProcAddr);
    ctx->vk.vkGetDeviceQueue(ctx->device, ctx->queue_family, 0, &ctx->queue);

    return VKS_OK;
fail:
    return st;
}

vks_status_t vks_context_create(const vks_context_options_t *opts, vks_context_t **out)
{
    vks_context_options_t defaults = {0};
    if (!opts) opts = &defaults;
    if (!out) return vks_fail(VKS_ERR_INVALID_ARGUMENT, "vks_context_create: out is NULL");
    *out = NULL;
    vks_status_t st = need_loader();
    if (st) return st;
    vks_context_t *ctx = calloc(1, sizeof *ctx);
    if (!ctx) return vks_fail(VKS_ERR_OUT_OF_HOST_MEMORY, "out of host memory");
    if (mtx_init(&ctx->queue_lock, mtx_plain) != thrd_success) {
        free(ctx);
        return vks_fail(VKS_ERR_OUT_OF_HOST_MEMORY, "vks_context_create: cannot make a mutex");
    }
    if (mtx_init(&ctx->pipeline_lock, mtx_plain) != thrd_success) {
        mtx_destroy(&ctx->queue_lock);
        free(ctx);
        return vks_fail(VKS_ERR_OUT_OF_HOST_MEMORY, "vks_context_create: cannot make a mutex");
    }
    if (mtx_init(&ctx->weights_lock, mtx_plain) != thrd_success) {
        mtx_destroy(&ctx->queue_lock);
        mtx_destroy(&ctx->pipeline_lock);
        free(ctx);
        return vks_fail(VKS_ERR_OUT_OF_HOST_MEMORY, "vks_context_create: cannot make a mutex");
    }
    ctx->locks_made = true;
    ctx->quiet_validation = opts->quiet_validation;
    ctx->conv_storage_weights = opts->conv_storage_weights != 0;

    bool validation = opts->validation || env_flag("VKSTYLE_VALIDATION");
    if (validation && !has_layer("VK_LAYER_KHRONOS_validation")) {
        st = vks_fail(VKS_ERR_UNSUPPORTED, "validation requested but VK_LAYER_KHRONOS_validation is not installed (apt-get install vulkan-validationlayers)");
        goto fail;
    }
    VKS_TRY(create_instance(validation, opts->instance_extensions, opts->instance_extension_count, &ctx->instance,
                            &ctx->vki));
    if (validation) VKS_TRY(create_messenger(ctx));
    const char *want = opts->device ? opts->device : getenv("VKSTYLE_DEVICE");
    VKS_TRY(choose_device(&ctx->vki, ctx->instance, want, &ctx->phys, &ctx->queue_family));
    ctx->vki.vkGetPhysicalDeviceProperties(ctx->phys, &ctx->props);
    ctx->vki.vkGetPhysicalDeviceMemoryProperties(ctx->phys, &ctx->mem);
    fill_info(&ctx->vki, ctx->phys, &ctx->info, &ctx->workarounds, &ctx->subgroup_add, &ctx->subgroup_shuffle);
    apply_limits(ctx, opts);

    VKS_TRY(create_device(ctx, opts));
    VKS_TRY(vks_pipeline_cache_create(ctx, opts->cache_dir));
    *out = ctx;
    return VKS_OK;
fail:
    vks_context_destroy(ctx);
    return st;
}

void vks_context_destroy(vks_context_t *ctx)
{
    if (!ctx) return;
    if (ctx->device) {
        ctx->vk.vkDeviceWaitIdle(ctx->device);
        vks_pipelines_destroy(ctx);
        vks_pipeline_cache_destroy(ctx);   /* saves it first */
        /* every vks_submit_wait has returned its fence by now (nothing runs during destroy) */
        for (uint32_t i = 0; i < ctx->nfences; i++) ctx->vk.vkDestroyFence(ctx->device, ctx->fences[i], NULL);
        ctx->vk.vkDestroyDevice(ctx->device, NULL);
    }
    if (ctx->messenger) ctx->vki.vkDestroyDebugUtilsMessengerEXT(ctx->instance, ctx->messenger, NULL);
    if (ctx->instance) ctx->vki.vkDestroyInstance(ctx->instance, NULL);
    free(ctx->fences);
    if (ctx->locks_made) {
        mtx_destroy(&ctx->queue_lock);
        mtx_destroy(&ctx->pipeline_lock);
        mtx_destroy(&ctx->weights_lock);
    }
    free(ctx);
}

uint32_t vks_context_validation_messages(const vks_context_t *ctx)
{
    return ctx ? atomic_load(&((vks_context_t *)ctx)->validation_messages) : 0;
}

void vks_context_vulkan(const vks_context_t *ctx, vks_vulkan_handles_t *out)
{
    *out = (vks_vulkan_handles_t){ctx->instance, ctx->phys, ctx->device, ctx->queue, ctx->queue_family,
                                  vks_vulkan_loader(), ctx->vki.vkGetDeviceProcAddr};
}

void vks_context_device_info(const vks_context_t *ctx, vks_device_info_t *info) { *info = ctx->info; }

uint64_t vks_context_memory_budget(const vks_context_t *ctx)
{
    uint64_t heap = 0;
    for (uint32_t h = 0; h < ctx->info.heap_count; h++)
        if (ctx->info.heap_device_local[h] && ctx->info.heap_size[h] > heap) heap = ctx->info.heap_size[h];
    return heap / 10 * 9;
}

void vks_context_lock_queue(vks_context_t *ctx) { mtx_lock(&ctx->queue_lock); }
void vks_context_unlock_queue(vks_context_t *ctx) { mtx_unlock(&ctx->queue_lock); }

/* An idle (unsignaled, not pending) fence: one the context kept, else a new one. Owned by the
 * caller until it gives it back with put_fence. */
static vks_status_t take_fence(vks_context_t *ctx, VkFence *out)
{
    vks_status_t st = VKS_OK;
    *out = VK_NULL_HANDLE;
    mtx_lock(&ctx->queue_lock);
    if (ctx->nfences) *out = ctx->fences[--ctx->nfences];
    mtx_unlock(&ctx->queue_lock);
    if (*out) return VKS_OK;
    VkFenceCreateInfo fci = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    VKS_VK(ctx->vk.vkCreateFence(ctx->device, &fci, NULL, out));
fail:
    return st;
}

/* Keep an idle fence for the next submission (the context destroys what it keeps); destroy it
 * when it cannot be reset or kept. */
static void put_fence(vks_context_t *ctx, VkFence f)
{
    if (ctx->vk.vkResetFences(ctx->device, 1, &f) == VK_SUCCESS) {
        mtx_lock(&ctx->queue_lock);
        bool kept = false;
        if (ctx->nfences == ctx->cap_fences) {
            uint32_t cap = ctx->cap_fences ? 2 * ctx->cap_fences : 4;
            VkFence *grown = realloc(ctx->fences, cap * sizeof *grown);
            if (grown) {
                ctx->fences = grown;
                ctx->cap_fences = cap;
            }
        }
        if (ctx->nfences < ctx->cap_fences) {
            ctx->fences[ctx->nfences++] = f;
            kept = true;
        }
        mtx_unlock(&ctx->queue_lock);
        if (kept) return;
    }
    ctx->vk.vkDestroyFence(ctx->device, f, NULL);
}

vks_status_t vks_submit_wait(vks_context_t *ctx, const VkCommandBuffer *cmds, uint32_t n)
{
    VkSubmitInfo si = {
        .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
        .commandBufferCount = n,
        .pCommandBuffers = cmds,
    };
    VkFence fence;
    vks_status_t st = take_fence(ctx, &fence);
    if (st) return st;
    mtx_lock(&ctx->queue_lock);
    VkResult r = ctx->vk.vkQueueSubmit(ctx->queue, 1, &si, fence);
    if (r >= 0) vks_count(&ctx->stats.submits);
    mtx_unlock(&ctx->queue_lock);
    if (r < 0) {
        st = vks_vk_fail(r, "vkQueueSubmit", __FILE__, __LINE__);
        goto fail;
    }
    r = ctx->vk.vkWaitForFences(ctx->device, 1, &fence, VK_TRUE, UINT64_MAX);
    if (r < 0) {
        /* the fence may still be pending: not one to reuse */
        ctx->vk.vkDestroyFence(ctx->device, fence, NULL);
        return vks_vk_fail(r, "vkWaitForFences", __FILE__, __LINE__);
    }
fail:
    put_fence(ctx, fence);
    return st;
}
