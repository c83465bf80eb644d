// Interop with real clients (NumPy, Python's safetensors, PyTorch), driven by check_interop.py.
//   interop_tool write <dir>   writes known tensors as .npy, .npz and .safetensors, and a module
//                              checkpoint with the inputs/outputs of its forward pass
//   interop_tool check <dir>   reads the files Python wrote into <dir>/py and checks every value
// Values follow formulas that check_interop.py repeats independently (value_at below); any
// mismatch prints what differs and exits 1. Uses only public headers, as a user's program would.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <iomanip>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "tapeflow/tapeflow.hpp"

namespace tf = tapeflow;
namespace fs = std::filesystem;

namespace {

// The value of flat element i (C order) of the tensor of dtype dt with seed k. Exact in every
// dtype: floats are multiples of 1/4, int64 values exceed the int32 range, bools alternate.
double value_at(tf::DType dt, std::int64_t i, int k) {
  const double x = static_cast<double>(i);
  switch (dt) {
    case tf::kFloat32:
    case tf::kFloat64: return (x - 3.0) * 0.25 + k;
    case tf::kInt32: return x * 7.0 - 20.0 + 30.0 * k;
    case tf::kInt64: return (x - 3.0) * 3000000019.0 + k;
    case tf::kBool: return (i + k) % 3 == 0 ? 1.0 : 0.0;
  }
  return 0.0;
}

struct Spec {
  std::string name;
  tf::DType dtype;
  std::vector<std::int64_t> shape;
  int seed;
  bool transposed = false;  // the source is the transpose of a (shape[1], shape[0]) tensor
};

// Tensors of every dtype, plus a 0-d, an empty and a non-contiguous (transposed) source.
// check_interop.py's SPECS lists the same.
const std::vector<Spec>& specs() {
  static const std::vector<Spec> all{
      {"f32_2x3", tf::kFloat32, {2, 3}, 1},
      {"f64_2x3x4", tf::kFloat64, {2, 3, 4}, 2},
      {"i32_5", tf::kInt32, {5}, 0},
      {"i64_2x2", tf::kInt64, {2, 2}, 4},
      {"bool_7", tf::kBool, {7}, 5},
      {"scalar_f64", tf::kFloat64, {}, 6},
      {"empty_f32_0x3", tf::kFloat32, {0, 3}, 7},
      {"transposed_f64_4x3", tf::kFloat64, {4, 3}, 8, true},
  };
  return all;
}

std::int64_t numel(const std::vector<std::int64_t>& shape) {
  std::int64_t n = 1;
  for (std::int64_t d : shape) n *= d;
  return n;
}

tf::Tensor make(const Spec& s) {
  std::vector<std::int64_t> shape = s.shape;
  if (s.transposed) std::swap(shape[0], shape[1]);
  std::vector<double> values(static_cast<std::size_t>(numel(shape)));
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = value_at(s.dtype, static_cast<std::int64_t>(i), s.seed);
  tf::Tensor t = tf::tensor(values, shape).to(s.dtype);
  return s.transposed ? t.t() : t;
}

// Expected value of flat element i of the tensor described by s, in its logical C order.
double expected_at(const Spec& s, std::int64_t i) {
  if (!s.transposed) return value_at(s.dtype, i, s.seed);
  const std::int64_t rows = s.shape[0], cols = s.shape[1];
  const std::int64_t r = i / cols, c = i % cols;
  return value_at(s.dtype, c * rows + r, s.seed);  // element [r][c] of the transpose
}

std::string shape_str(const std::vector<std::int64_t>& shape) {
  std::ostringstream os;
  os << "(";
  for (std::size_t i = 0; i < shape.size(); ++i) os << (i ? ", " : "") << shape[i];
  os << ")";
  return os.str();
}

// Collects mismatches; the program fails when any was found.
struct Checker {
  int failures = 0;
  void fail(const std::string& where, const std::string& what) {
    std::fprintf(stderr, "MISMATCH %s: %s\n", where.c_str(), what.c_str());
    ++failures;
  }

  // t must have the spec's shape and `dtype` (the spec's unless given), and its values.
  void tensor(const std::string& where, const tf::Tensor& t, const Spec& s, tf::DType dtype) {
    if (!t.defined()) return fail(where, "missing tensor");
    const std::vector<std::int64_t> shape(t.sizes().begin(), t.sizes().end());
    if (shape != s.shape) return fail(where, "shape " + shape_str(shape) + ", expected " + shape_str(s.shape));
    if (t.dtype() != dtype)
      return fail(where, std::string("dtype ") + tf::dtype_name(t.dtype()) + ", expected " + tf::dtype_name(dtype));
    const tf::Tensor d = t.to(tf::kFloat64).contiguous();
    const double* p = d.data_ptr<double>();
    for (std::int64_t i = 0; i < d.numel(); ++i) {
      if (p[i] != expected_at(s, i)) {
        std::ostringstream os;
        os << std::setprecision(17) << "element " << i << " is " << p[i] << ", expected " << expected_at(s, i);
        return fail(where, os.str());
      }
    }
  }
};

// The module both sides know: Linear(4,3), ReLU, Linear(3,2) with weights set by a formula.
tf::nn::Sequential make_mlp() {
  tf::nn::Sequential mlp(tf::nn::Linear(4, 3), tf::nn::ReLU(), tf::nn::Linear(3, 2));
  tf::NoGradGuard no_grad;
  int k = 0;
  for (auto& item : mlp->named_parameters()) {
    tf::Tensor p = item.value();
    std::vector<double> v(static_cast<std::size_t>(p.numel()));
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = std::sin(1.0 + static_cast<double>(i) + 10.0 * k) * 0.5;
    p.copy_(tf::tensor(v, p.sizes()));
    ++k;
  }
  return mlp;
}

void write_all(const fs::path& dir) {
  fs::create_directories(dir / "npy");
  tf::StateDict all;
  for (const Spec& s : specs()) {
    const tf::Tensor t = make(s);
    tf::save_npy((dir / "npy" / (s.name + ".npy")).string(), t);
    all.insert(s.name, t);
  }
  tf::save_npz((dir / "tensors.npz").string(), all);
  tf::save_safetensors((dir / "tensors.safetensors").string(), all,
                       {{"producer", "tapeflow interop_tool"}, {"note", "caf\xc3\xa9 \xe2\x9c\x93"}});

  // A module checkpoint, with a fixed input and tapeflow's output for the PyTorch comparison.
  tf::nn::Sequential mlp = make_mlp();
  tf::save((dir / "mlp.safetensors").string(), *mlp);
  tf::StateDict io;
  const tf::Tensor input = tf::linspace(-2.0, 2.0, 20).reshape({5, 4});
  io.insert("input", input);
  {
    tf::NoGradGuard no_grad;
    io.insert("output", mlp->forward(input));
  }
  tf::save_npz((dir / "mlp_io.npz").string(), io);
}

int check_all(const fs::path& dir) {
  Checker check;
  const fs::path py = dir / "py";
  for (const Spec& s : specs()) {
    check.tensor("npy/" + s.name, tf::load_npy((py / "npy" / (s.name + ".npy")).string()), s, s.dtype);
  }
  // Narrow integer dtypes (seeds keep them in range; u2 exceeds int16), read as int32; and a
  // Fortran-order file.
  for (const auto& [name, seed] : std::vector<std::pair<std::string, int>>{{"u1", 1}, {"i1", 0}, {"i2", 40}, {"u2", 2000}}) {
    const Spec s{name + "_6", tf::kInt32, {6}, seed};
    check.tensor("npy/" + s.name, tf::load_npy((py / "npy" / (s.name + ".npy")).string()), s, tf::kInt32);
  }
  const Spec fortran{"fortran_f64_3x4", tf::kFloat64, {3, 4}, 9};
  check.tensor("npy/fortran", tf::load_npy((py / "npy" / "fortran_f64_3x4.npy").string()), fortran, tf::kFloat64);

  for (const char* archive : {"savez.npz", "savez_compressed.npz"}) {
    const tf::StateDict d = tf::load_npz((py / archive).string());
    if (d.size() != specs().size()) check.fail(archive, "holds " + std::to_string(d.size()) + " tensors");
    for (const Spec& s : specs())
      check.tensor(std::string(archive) + ":" + s.name, d.contains(s.name) ? d[s.name] : tf::Tensor(), s, s.dtype);
  }

  std::map<std::string, std::string> metadata;
  const tf::StateDict st = tf::load_safetensors((py / "tensors.safetensors").string(), &metadata);
  if (st.size() != specs().size()) check.fail("safetensors", "holds " + std::to_string(st.size()) + " tensors");
  for (const Spec& s : specs())
    check.tensor("safetensors:" + s.name, st.contains(s.name) ? st[s.name] : tf::Tensor(), s, s.dtype);
  const std::map<std::string, std::string> expected_metadata{{"producer", "safetensors.numpy"},
                                                             {"note", "caf\xc3\xa9 \xe2\x9c\x93"}};
  if (metadata != expected_metadata) check.fail("safetensors", "metadata differs");

  // A state dict Python wrote for the same MLP loads strictly, with the formula's values.
  tf::nn::Sequential mlp(tf::nn::Linear(4, 3), tf::nn::ReLU(), tf::nn::Linear(3, 2));
  tf::load((py / "mlp.safetensors").string(), *mlp, /*strict=*/true);
  const tf::nn::Sequential want = make_mlp();
  const auto got_params = mlp->named_parameters();
  for (const auto& item : want->named_parameters()) {
    const tf::Tensor& g = got_params[item.key()];
    if (!tf::equal(g, item.value()))
      check.fail("mlp.safetensors:" + item.key(), "differs from the formula");
  }

  if (check.failures > 0) {
    std::fprintf(stderr, "%d mismatches\n", check.failures);
    return 1;
  }
  std::printf("interop_tool check: all files Python wrote read back exactly\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 || (std::string(argv[1]) != "write" && std::string(argv[1]) != "check")) {
    std::fprintf(stderr, "usage: %s write|check <dir>\n", argv[0]);
    return 2;
  }
  try {
    if (std::string(argv[1]) == "write") {
      write_all(argv[2]);
      return 0;
    }
    return check_all(argv[2]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "interop_tool %s: %s\n", argv[1], e.what());
    return 1;
  }
}
