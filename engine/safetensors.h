/* Strict safetensors parsing: the reference format rules plus vkstyle's own limits.
 * See docs/model-format.md. Nothing here touches Vulkan. */
#ifndef VKS_SAFETENSORS_H
#define VKS_SAFETENSORS_H

#include "half.h"
#include "vkstyle/vkstyle.h"
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define VKS_ST_MAX_HEADER 100000000ull   /* the reference implementation's limit */
#define VKS_ST_MAX_RANK 4
#define VKS_ST_MAX_DIM (1ull << 20)
#define VKS_ST_MAX_ELEMS (1ull << 28)

typedef enum vks_dtype { VKS_DTYPE_F32, VKS_DTYPE_F16 } vks_dtype_t;

typedef struct vks_st_tensor {
    char *name;
    vks_dtype_t dtype;
    uint32_t rank;
    uint64_t shape[VKS_ST_MAX_RANK];
    uint64_t count;          /* product of shape (1 for rank 0) */
    uint64_t begin, end;     /* absolute byte offsets in the file */
} vks_st_tensor_t;

typedef struct vks_st_file {
    vks_st_tensor_t *tensors; /* sorted by offset */
    size_t count;
    json_t *metadata;         /* the "__metadata__" object (all values strings), or NULL */
    const uint8_t *data;      /* the whole file, borrowed */
    size_t size;
} vks_st_file_t;

/* Parse and validate; on success *out owns its tensors and metadata (free with vks_st_free);
 * data must outlive it. On failure returns VKS_ERR_MODEL_FORMAT with a message and *out is
 * zeroed. */
vks_status_t vks_st_parse(const uint8_t *data, size_t size, vks_st_file_t *out);
void vks_st_free(vks_st_file_t *f);
/* NULL if absent. */
const vks_st_tensor_t *vks_st_find(const vks_st_file_t *f, const char *name);
/* Convert a tensor to float32 (dst holds t->count floats). Fails with VKS_ERR_MODEL_FORMAT
 * naming the tensor if any value is NaN or infinite. */
vks_status_t vks_st_read_f32(const vks_st_file_t *f, const vks_st_tensor_t *t, float *dst);
/* The same check without converting: every tensor of a model is checked this way, the ones no
 * layer uses included (docs/model-format.md: NaN or infinite weights are rejected). */
vks_status_t vks_st_check_finite(const vks_st_file_t *f, const vks_st_tensor_t *t);

#endif
