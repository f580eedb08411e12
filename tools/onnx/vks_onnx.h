/* ONNX in: translate an ONNX model (protobuf, read with protobuf-c) into vkstyle model bytes (a
 * safetensors file per docs/model-format.md), in memory. Used by `vkstyle convert` and by `-m
 * net.onnx` (the engine then loads the bytes through vks_model_load_memory). */
#ifndef VKS_ONNX_H
#define VKS_ONNX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The value range of the network's input and output tensors. DEFAULT: the model's metadata
 * ("vkstyle.input_range" / "vkstyle.output_range"), else 0..255 (PyTorch fast_neural_style). */
typedef enum { VKS_ONNX_RANGE_DEFAULT = 0, VKS_ONNX_RANGE_255, VKS_ONNX_RANGE_1, VKS_ONNX_RANGE_PM1 } vks_onnx_range_t;

typedef struct vks_onnx_options {
    vks_onnx_range_t input_range, output_range;
    /* Tensor mode (conformance tests): no pixel conventions; any input and output channel count;
     * int32 inputs (computed in float); [W], [H,W] and [C,H,W] inputs are taken as [1,C,H,W]; a
     * fixed batch N > 1 is accepted, meaning: run each of the N samples as its own session
     * (every mapped op works per sample; a graph that reads N through Shape is refused). */
    bool tensor_mode;
    /* The model's name and style name; NULL: the file name without .onnx. */
    const char *name;
} vks_onnx_options_t;

/* Reads the ONNX file at path (external data files are looked up next to it, never outside its
 * folder) and translates it. On success returns 0 and *bytes (free() it) / *n hold the
 * safetensors file. On error returns -1 with one line in err (e.g. "node 'Conv_12' (Conv):
 * group = 4 is not supported"); *bytes is NULL. */
int vks_onnx_translate(const char *path, const vks_onnx_options_t *o, uint8_t **bytes, size_t *n, char *err,
                       size_t errsz);

/* Same from a protobuf in memory; dir is the folder for external data (NULL: external data refused). */
int vks_onnx_translate_memory(const uint8_t *data, size_t size, const char *dir, const vks_onnx_options_t *o,
                              uint8_t **bytes, size_t *n, char *err, size_t errsz);

/* "0..255", "0..1" or "-1..1"; returns 0, or -1 if s is none of them. */
int vks_onnx_parse_range(const char *s, vks_onnx_range_t *out);

/* True if path ends in .onnx (any case). */
bool vks_onnx_is_onnx_path(const char *path);

#endif
