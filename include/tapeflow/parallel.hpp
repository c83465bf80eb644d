#pragma once
// The library's CPU thread count (its own pool; BLAS is kept from oversubscribing the cores).
namespace tapeflow {
void set_num_threads(int n);  // n >= 1
int get_num_threads();        // defaults to the number of hardware threads
}  // namespace tapeflow
