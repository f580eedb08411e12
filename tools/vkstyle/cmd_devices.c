/* vkstyle devices: every Vulkan device with what matters for compute. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vulkan/vulkan_core.h>

int cmd_devices(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            printf("usage: vkstyle devices\n\nLists every Vulkan device: index, name, type, driver, Vulkan version,\n"
                   "subgroup size, shared memory, largest binding, fp16/int8 support, timestamps, largest\n"
                   "allocation, memory heaps, and the driver-bug workarounds vkstyle applies on it.\n"
                   "Pick one with --device INDEX|NAME or VKSTYLE_DEVICE; the default prefers a discrete GPU,\n"
                   "then integrated, virtual, CPU.\n");
            return 0;
        }
        return cli_error("devices: unknown option '%s'", argv[i]);
    }
    uint32_t n = 0;
    vks_status_t st = vks_enumerate_devices(NULL, 0, &n);
    if (st) return cli_engine_error("devices", st);
    if (n == 0) return cli_error("no Vulkan devices found (install a driver, e.g. mesa-vulkan-drivers)");
    vks_device_info_t *d = calloc(n, sizeof *d);
    if (!d) return cli_error("out of memory");
    uint32_t cap = n;   /* a device may appear between the two calls: print what was filled */
    if ((st = vks_enumerate_devices(d, cap, &n))) {
        free(d);
        return cli_engine_error("devices", st);
    }
    if (n > cap) n = cap;
    for (uint32_t i = 0; i < n; i++) {
        printf("%u: %s (%s)\n", i, d[i].name, d[i].type);
        printf("   driver:         %s\n", d[i].driver);
        printf("   vulkan:         %u.%u.%u\n", VK_API_VERSION_MAJOR(d[i].api_version),
               VK_API_VERSION_MINOR(d[i].api_version), VK_API_VERSION_PATCH(d[i].api_version));
        printf("   subgroup size:  %u\n", d[i].subgroup_size);
        printf("   shared memory:  %u KiB\n", d[i].shared_memory / 1024);
        printf("   max binding:    %llu MiB\n", (unsigned long long)(d[i].max_binding_bytes >> 20));
        printf("   push constants: %u bytes\n", d[i].max_push_constants);
        printf("   fp16: %s  int8: %s  timestamps: %s\n", d[i].fp16 ? "yes" : "no", d[i].int8 ? "yes" : "no",
               d[i].timestamps ? "yes" : "no");
        for (uint32_t h = 0; h < d[i].heap_count; h++)
            printf("   heap %u:         %.1f GiB%s\n", h, (double)d[i].heap_size[h] / (1 << 30),
                   d[i].heap_device_local[h] ? " device-local" : "");
        printf("   max allocation: %llu MiB\n", (unsigned long long)(d[i].max_allocation >> 20));
        printf("   workarounds:    %s\n", d[i].workarounds);
    }
    free(d);
    return 0;
}
