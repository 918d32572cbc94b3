// OpenBLAS's CBLAS interface (Debian: libopenblas-dev). Only single-precision GEMM is used.
#include <cblas.h>
