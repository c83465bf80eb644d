#pragma once
// TAPEFLOW_HD marks functions compiled for both the host and CUDA devices (functors, index math).
#if defined(__CUDACC__)
#define TAPEFLOW_HD __host__ __device__
#else
#define TAPEFLOW_HD
#endif
