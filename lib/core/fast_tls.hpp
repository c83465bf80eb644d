#pragma once
// Thread-locals read on every op (grad mode, the small-block free lists, the parallel-region
// flag) use the initial-exec TLS model: a plain %fs-relative load instead of a __tls_get_addr
// call, which the default model for shared libraries costs (measured: 13% of a 1-element add).
// Only for trivially constructible/destructible variables at namespace scope.
#if defined(__GNUC__)
#define TAPEFLOW_FAST_TLS __attribute__((tls_model("initial-exec")))
#else
#define TAPEFLOW_FAST_TLS
#endif
