#include "runtime/kernels/matmul.h"
