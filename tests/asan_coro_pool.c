/* A preload for .ci/run's sanitizer stage only: lavapipe's coroutine frames from a recycled pool.
 *
 * Mesa 22.3's llvmpipe runs every compute workgroup as coroutines, and each workgroup allocates
 * its coroutine frame with posix_memalign(4096 alignment, at most 256 bytes) and frees it at the
 * end: about 14,000 allocations a 64x48 udnie frame. Under AddressSanitizer each of them is a
 * page-aligned chunk of the ASan allocator, cycled through its quarantine: fresh pages, page
 * faults and TLB shootdowns, which made a 64x48 frame 476 ms instead of 62 (2026-12-06, this VM),
 * most of the sanitizer stage's time.
 *
 * This preload, listed before libasan (ASAN_OPTIONS=verify_asan_link_order=0), serves exactly
 * those requests (alignment 4096, size <= 4096) from a pool of page slots and takes them back
 * in free(); everything else goes on to ASan's own posix_memalign and free. vkstyle itself never
 * calls posix_memalign (nor aligned_alloc or memalign), so no allocation of the project's code
 * leaves ASan's view. The pool is a static array, so LeakSanitizer scans it as a root: a pointer
 * held only in a coroutine frame is not reported as a leak. Built uninstrumented by .ci/run. With it
 * preloaded, a use after free in an ASan-built program is still reported with the stacks of its
 * allocation and its free (checked on a 4-line program, 2026-12-06). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

enum { SLOT = 4096, NSLOT = 1024 };

static _Alignas(4096) unsigned char pool[NSLOT][SLOT];
static void *freelist[NSLOT];
static int nfree = -1;   /* -1: the free list is not filled yet */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

/* ASan's interceptors by name: dlsym(RTLD_NEXT) from a free() that runs before ASan is
 * initialized would recurse into this free(). Weak, so that the preload also loads without ASan. */
extern int __interceptor_posix_memalign(void **p, size_t align, size_t size) __attribute__((weak));
extern void __interceptor_free(void *p) __attribute__((weak));

static int next_posix_memalign(void **p, size_t align, size_t size)
{
    static int (*fn)(void **, size_t, size_t);
    if (!fn)
        fn = __interceptor_posix_memalign ? __interceptor_posix_memalign
                                          : (int (*)(void **, size_t, size_t))dlsym(RTLD_NEXT, "posix_memalign");
    return fn(p, align, size);
}

static void next_free(void *p)
{
    static void (*fn)(void *);
    if (!fn) fn = __interceptor_free ? __interceptor_free : (void (*)(void *))dlsym(RTLD_NEXT, "free");
    fn(p);
}

int posix_memalign(void **p, size_t align, size_t size)
{
    if (align == SLOT && size <= SLOT) {
        void *slot = NULL;
        pthread_mutex_lock(&mu);
        if (nfree < 0) {
            for (int i = 0; i < NSLOT; i++) freelist[i] = pool[NSLOT - 1 - i];
            nfree = NSLOT;
        }
        if (nfree > 0) slot = freelist[--nfree];
        pthread_mutex_unlock(&mu);
        if (slot) {
            *p = slot;
            return 0;
        }
    }
    return next_posix_memalign(p, align, size);   /* other requests, or the pool exhausted */
}

void free(void *p)
{
    if ((uintptr_t)p - (uintptr_t)pool < sizeof pool) {   /* one of the pool's slots */
        pthread_mutex_lock(&mu);
        freelist[nfree++] = p;
        pthread_mutex_unlock(&mu);
        return;
    }
    next_free(p);
}
