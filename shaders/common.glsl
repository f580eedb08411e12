// Shared by every shader: the config constants and activations.
#include "config.h"

float vks_act(float x, uint act)
{
    if (act == VKS_ACT_RELU) return max(x, 0.0);
    if (act == VKS_ACT_TANH) return tanh(x);
    if (act == VKS_ACT_SIGMOID) return 1.0 / (1.0 + exp(-x));
    return x;
}
