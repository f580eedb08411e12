/* volk's implementation, compiled once into the engine (Debian ships it as a header-side .c),
 * with none of its symbols visible outside this file.
 *
 * volk.c defines a global function pointer for every Vulkan command, under the command's own
 * name (vkCreateInstance, vkCmdDispatch, ...), and its volk* functions. Left global, they would
 * clash in a program that links the Vulkan loader too: its call to vkEnumerateInstanceVersion
 * would bind to our data pointer. So everything volk declares here is hidden (the pragma below;
 * volk.c already hides its pointers but not its functions), which keeps it out of a shared
 * library's exports, and engine/CMakeLists.txt turns this object's hidden symbols into local
 * ones (objcopy --localize-hidden) before it goes into the library, because in a static archive
 * a hidden symbol is still global to whatever it is linked into. The engine reaches volk only
 * through the two vks_ functions at the end (engine.h); tests/check_symbols.sh checks that the
 * library defines no vk* or volk* symbol and uses none.
 */
#include <dlfcn.h>   /* before the pragma: dlopen and dlsym stay the C library's */

#pragma GCC visibility push(hidden)
#include <volk.c>
#pragma GCC visibility pop

#include "engine.h"

#include <threads.h>

static once_flag loader_once = ONCE_FLAG_INIT;
static PFN_vkGetInstanceProcAddr loader_gipa;

static void open_loader(void)
{
    if (volkInitialize() == VK_SUCCESS) loader_gipa = vkGetInstanceProcAddr;
}

PFN_vkGetInstanceProcAddr vks_vulkan_loader(void)
{
    call_once(&loader_once, open_loader);
    return loader_gipa;
}

typedef struct device_loader {
    PFN_vkGetDeviceProcAddr gdpa;
    VkDevice device;
} device_loader_t;

static PFN_vkVoidFunction device_proc(void *loader, const char *name)
{
    const device_loader_t *l = loader;
    return l->gdpa(l->device, name);
}

void vks_load_device_table(struct VolkDeviceTable *table, VkDevice device, PFN_vkGetDeviceProcAddr gdpa)
{
    /* volkLoadDeviceTable's own generated loader, with this instance's vkGetDeviceProcAddr in
     * place of volk's global one (which only volkLoadInstance sets, for the last instance). */
    device_loader_t l = {gdpa, device};
    volkGenLoadDeviceTable(table, &l, device_proc);
}
