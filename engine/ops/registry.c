/* The registry: every op of the model format, once. An op's file exports its descriptor (op.h);
 * listing it here is all it takes for the loader, the planner, the recorders and the profiler to
 * know it. */
#include "op.h"

#include <string.h>

const vks_op_desc_t *const vks_op_table[] = {
    &vks_op_conv2d_desc,
    &vks_op_conv2d_transpose_desc,
    &vks_op_upsample_nearest_desc,
    &vks_op_instance_norm_desc,
    &vks_op_conditional_instance_norm_desc,
    &vks_op_batch_norm_desc,
    &vks_op_activation_desc,
    &vks_op_add_desc,
    &vks_op_pad_desc,
};
const uint32_t vks_op_count = sizeof vks_op_table / sizeof *vks_op_table;

const vks_op_desc_t *vks_op_find(const char *name)
{
    for (uint32_t i = 0; name && i < vks_op_count; i++)
        if (!strcmp(vks_op_table[i]->name, name)) return vks_op_table[i];
    return NULL;
}
