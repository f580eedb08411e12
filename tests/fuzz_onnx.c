/* libFuzzer harness for the ONNX translator, protobuf parsing included (VKSTYLE_FUZZ; CI runs it
 * for 30 s):
 *   CC=clang cmake -S . -B build-fuzz -DVKSTYLE_FUZZ=ON -DVKSTYLE_MEDIA=OFF
 *   cmake --build build-fuzz --target fuzz_onnx && ctest --test-dir build-fuzz -R fuzz_onnx
 * or by hand: build-fuzz/tools/onnx/fuzz_onnx -dict=tests/fuzz_corpus/onnx.dict NEW/ tests/fuzz_corpus/onnx
 * The seeds are small models from tests/python/test_onnx.py's builders (make_onnx_seeds.py).
 * Each input is translated in pixel and in tensor mode (external data refused: no folder). A
 * failure must leave one line in err and no bytes; a success must be a safetensors file the
 * engine's parser accepts. Anything else, a crash, a sanitizer report or a leak is a bug. */
#include "safetensors.h"
#include "vks_onnx.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (int mode = 0; mode < 2; mode++) {
        vks_onnx_options_t o = {.tensor_mode = mode == 1, .input_range = (vks_onnx_range_t)(size % 4)};
        uint8_t *bytes = (uint8_t *)1;
        size_t n = 1;
        char err[1024];
        memset(err, 'x', sizeof err);
        if (vks_onnx_translate_memory(data, size, NULL, &o, &bytes, &n, err, sizeof err)) {
            if (bytes || n || !err[0] || !memchr(err, 0, sizeof err) || strchr(err, '\n')) abort();
            continue;
        }
        if (!bytes || n < 8) abort();
        vks_st_file_t f;
        if (vks_st_parse(bytes, n, &f) != VKS_OK) abort();
        vks_st_free(&f);
        free(bytes);
    }
    return 0;
}
