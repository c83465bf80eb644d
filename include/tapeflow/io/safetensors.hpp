#pragma once
// safetensors files (https://github.com/huggingface/safetensors), readable by Python's
// safetensors, NumPy (safetensors.numpy) and PyTorch (safetensors.torch). Layout: an 8-byte
// little-endian header size N, N bytes of JSON
//   {"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...,
//    "__metadata__": {"key": "value"}}
// padded with spaces to a multiple of 8, then the byte buffer the offsets point into.
// Dtypes: F32 F64 I32 I64 BOOL (tapeflow's own).
#include <map>
#include <string>

#include "tapeflow/state_dict.hpp"

namespace tapeflow {

// Writes the tensors in dict order, C-contiguous little-endian (non-contiguous and CUDA tensors
// are copied first), with the string metadata (the key "__metadata__" is reserved and names
// must be unique, as in Python). Atomic: writes `<path>.tmp.<pid>` and renames it over path; on
// any error an existing file at path is left untouched and IOError is thrown.
void save_safetensors(const std::string& path, const StateDict& tensors,
                      const std::map<std::string, std::string>& metadata = {});

// Reads every tensor, in the order the header lists them, into CPU tensors; fills *metadata
// (cleared first) when given. Validates as the reference implementation does before reading any
// data: header size (<= 100 MB and within the file), strict JSON, known dtypes, non-negative
// shapes whose byte size does not overflow and matches data_offsets, offsets that neither
// overlap nor leave gaps and cover the buffer exactly. Any violation throws IOError naming the
// file and the problem; memory is only allocated for sizes the file actually holds.
StateDict load_safetensors(const std::string& path, std::map<std::string, std::string>* metadata = nullptr);

}  // namespace tapeflow
