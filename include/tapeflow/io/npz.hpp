#pragma once
// NumPy .npz archives: a zip file with one .npy member per named tensor, as np.savez writes
// (and np.savez_compressed: deflate members are read too). Member "name.npy" holds tensor "name".
#include <string>

#include "tapeflow/state_dict.hpp"

namespace tapeflow {

// Writes uncompressed (stored) members in dict order, readable by np.load. Atomic, as
// save_npy. Throws IOError for undefined tensors and for archives needing ZIP64 (>= 4 GiB).
void save_npz(const std::string& path, const StateDict& tensors);

// Reads every member, in archive order; the ".npy" suffix is dropped from member names.
// Members may be stored or deflated (np.savez_compressed); CRCs are checked. Throws IOError
// naming the file (and member) for a truncated or corrupt archive, an unsupported zip feature
// (encryption, multi-disk, ZIP64 end records), duplicate members or a bad .npy member. Memory is
// bounded by the file: a deflated member may not claim more than deflate's maximal ratio.
StateDict load_npz(const std::string& path);

}  // namespace tapeflow
