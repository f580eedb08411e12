/* libFuzzer harness for the safetensors parser (VKSTYLE_FUZZ; CI runs it for 30 s):
 *   CC=clang cmake -S . -B build-fuzz -DVKSTYLE_FUZZ=ON -DVKSTYLE_MEDIA=OFF
 *   cmake --build build-fuzz --target fuzz_safetensors && ctest --test-dir build-fuzz -R fuzz
 * or by hand: build-fuzz/tests/fuzz_safetensors -dict=tests/fuzz_corpus/safetensors.dict \
 *   NEW_INPUTS/ tests/fuzz_corpus/safetensors
 * Any status other than OK / MODEL_FORMAT, a crash, a sanitizer report or a leak is a bug. */
#include "safetensors.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vks_st_file_t f;
    vks_status_t st = vks_st_parse(data, size, &f);
    if (st != VKS_OK) {
        static const vks_st_file_t zero;
        if (st != VKS_ERR_MODEL_FORMAT || !vks_last_error()[0] || memcmp(&f, &zero, sizeof f))
            abort();
        return 0;
    }
    for (size_t i = 0; i < f.count; i++) {
        const vks_st_tensor_t *t = &f.tensors[i];
        if (t->begin < 8 || t->begin > t->end || t->end > size) abort();
        if (i && t->begin != f.tensors[i - 1].end) abort();
        if (vks_st_find(&f, t->name) == NULL) abort();
        float *dst = malloc(t->count ? t->count * sizeof *dst : 1);
        if (!dst) abort();
        st = vks_st_read_f32(&f, t, dst);
        if (st != VKS_OK && st != VKS_ERR_MODEL_FORMAT) abort();
        free(dst);
    }
    if (f.count && f.tensors[f.count - 1].end != size) abort();
    vks_st_free(&f);
    return 0;
}
