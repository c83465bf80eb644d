#include "gradcheck.hpp"

#include <cmath>
#include <exception>
#include <sstream>

#include "value_mismatch.hpp"

namespace tapeflow::testing {

std::vector<GradCase>& grad_cases() {
  static std::vector<GradCase> cases;
  return cases;
}

RegisterGradCases::RegisterGradCases(std::vector<GradCase> cases) {
  for (auto& c : cases) grad_cases().push_back(std::move(c));
}

Tensor leaf(Tensor t) {
  t.requires_grad_(true);
  return t;
}

Tensor randn64(IntArrayRef shape, double scale) { return randn(shape, kFloat64) * scale; }

Tensor uniform64(IntArrayRef shape, double lo, double hi) {
  Tensor t = empty(shape, kFloat64);
  uniform_(t, lo, hi);
  return t;
}

namespace {

constexpr double kEps = 1e-6;

// A scalar function of the differentiable inputs (the others stay fixed).
using ScalarFn = std::function<double(const std::vector<Tensor>&)>;

// Central differences of f with respect to every element of every input with requires_grad.
std::vector<std::vector<double>> numeric_grads(const std::vector<Tensor>& inputs, const ScalarFn& f) {
  std::vector<std::vector<double>> out(inputs.size());
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].requires_grad()) continue;
    const Tensor base = inputs[i].detach().contiguous();
    const std::int64_t n = base.numel();
    out[i].resize(static_cast<std::size_t>(n));
    for (std::int64_t j = 0; j < n; ++j) {
      std::vector<Tensor> plus = inputs, minus = inputs;
      Tensor p = base.clone(), m = base.clone();
      p.data_ptr<double>()[j] += kEps;
      m.data_ptr<double>()[j] -= kEps;
      plus[i] = p;
      minus[i] = m;
      out[i][static_cast<std::size_t>(j)] = (f(plus) - f(minus)) / (2 * kEps);
    }
  }
  return out;
}

std::string compare(const GradCase& c, const std::vector<Tensor>& inputs, const std::vector<Tensor>& analytic,
                    const std::vector<std::vector<double>>& numeric, const char* what) {
  std::ostringstream report;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].requires_grad()) continue;
    if (!analytic[i].defined()) {
      bool all_zero = true;
      for (double v : numeric[i]) all_zero = all_zero && std::fabs(v) <= c.atol;
      if (!all_zero) report << what << ": input " << i << " got no gradient but finite differences are non-zero\n";
      continue;
    }
    if (!(analytic[i].shape() == inputs[i].shape())) {
      report << what << ": input " << i << " gradient has shape " << analytic[i].shape() << ", expected "
             << inputs[i].shape() << "\n";
      continue;
    }
    const Tensor a = analytic[i].to(kFloat64).contiguous();
    for (std::size_t j = 0; j < numeric[i].size(); ++j) {
      const double av = a.data_ptr<double>()[j], nv = numeric[i][j];
      if (!(std::fabs(av - nv) <= c.atol + c.rtol * std::fabs(nv))) {
        report << what << ": input " << i << " element " << j << ": analytic " << av << " vs numeric " << nv << "\n";
        break;
      }
    }
  }
  return report.str();
}

// The projection L = sum(fn(x) * v) with a fixed v, so every output element matters.
Tensor projection_weights(const Tensor& y) {
  Generator g(1234);
  return randn(y.shape(), kFloat64, &g);
}

double project(const Tensor& y, const Tensor& v) { return (y.to(kFloat64) * v).sum().item<double>(); }

}  // namespace

std::string gradcheck(const GradCase& c) {
  manual_seed(42);
  std::vector<Tensor> inputs = c.inputs();
  Tensor y = c.fn(inputs);
  if (!y.requires_grad()) return "output does not require grad (op did not record)";
  const Tensor v = projection_weights(y);
  Tensor loss = (y * v).sum();
  std::vector<Tensor> diff;
  for (const Tensor& x : inputs)
    if (x.requires_grad()) diff.push_back(x);
  std::vector<Tensor> g = grad({loss}, diff, {}, std::nullopt, false, /*allow_unused=*/true);
  std::vector<Tensor> analytic(inputs.size());
  for (std::size_t i = 0, k = 0; i < inputs.size(); ++i)
    if (inputs[i].requires_grad()) analytic[i] = g[k++];
  NoGradGuard no_grad;
  auto numeric = numeric_grads(inputs, [&](const std::vector<Tensor>& xs) { return project(c.fn(xs), v); });
  return compare(c, inputs, analytic, numeric, "first order");
}

std::string gradgradcheck(const GradCase& c) {
  manual_seed(42);
  std::vector<Tensor> inputs = c.inputs();
  std::vector<std::size_t> diff_pos;
  for (std::size_t i = 0; i < inputs.size(); ++i)
    if (inputs[i].requires_grad()) diff_pos.push_back(i);
  Tensor v;
  {
    NoGradGuard no_grad;
    v = projection_weights(c.fn(inputs));
  }
  std::vector<Tensor> us;
  for (std::size_t k = 0; k < diff_pos.size(); ++k) {
    Generator g(99 + k);
    us.push_back(randn(inputs[diff_pos[k]].shape(), kFloat64, &g));
  }
  // h(x) = sum_k <dL/dx_k, u_k>, with L = sum(fn(x) * v).
  auto h = [&](const std::vector<Tensor>& xs, bool create_graph) -> Tensor {
    std::vector<Tensor> diff;
    for (std::size_t i : diff_pos) diff.push_back(xs[i]);
    Tensor loss = (c.fn(xs) * v).sum();
    std::vector<Tensor> g = grad({loss}, diff, {}, std::nullopt, create_graph, true);
    Tensor total = zeros({}, kFloat64);
    for (std::size_t k = 0; k < g.size(); ++k)
      if (g[k].defined()) total = total + (g[k] * us[k]).sum();
    return total;
  };
  Tensor hx = h(inputs, true);
  std::vector<Tensor> analytic(inputs.size());
  if (hx.requires_grad()) {
    std::vector<Tensor> diff;
    for (std::size_t i : diff_pos) diff.push_back(inputs[i]);
    std::vector<Tensor> g2 = grad({hx}, diff, {}, std::nullopt, false, true);
    for (std::size_t k = 0; k < diff_pos.size(); ++k) analytic[diff_pos[k]] = g2[k];
  }
  // Finite differences of h need gradients (grad mode on) but no second graph.
  auto numeric = numeric_grads(inputs, [&](const std::vector<Tensor>& xs) {
    std::vector<Tensor> leaves;
    for (std::size_t i = 0; i < xs.size(); ++i) {
      Tensor t = xs[i].detach();
      if (inputs[i].requires_grad()) t.requires_grad_(true);
      leaves.push_back(t);
    }
    return h(leaves, false).item<double>();
  });
  GradCase loose = c;
  loose.atol = std::max(c.atol, 1e-5);
  loose.rtol = std::max(c.rtol, 1e-4);
  return compare(loose, inputs, analytic, numeric, "second order");
}

namespace {

// "cuda:0", "cpu", and "cpu:1" for a second CPU device (Device::str() prints every CPU as "cpu").
std::string device_name(Device d) { return d.is_cpu() && d.index() != 0 ? "cpu:" + std::to_string(d.index()) : d.str(); }

// The same values on another device, with the same requires_grad (a new leaf there).
std::vector<Tensor> inputs_on(const std::vector<Tensor>& xs, Device d) {
  std::vector<Tensor> out;
  for (const Tensor& x : xs) {
    if (!x.defined()) {
      out.push_back(x);
      continue;
    }
    Tensor y = x.detach().to(d);
    if (x.requires_grad()) y.requires_grad_(true);
    out.push_back(y);
  }
  return out;
}

struct ParityRun {
  Tensor output;
  std::vector<Tensor> grads;  // undefined for inputs without requires_grad or unused
};

ParityRun parity_run(const GradCase& c, const std::vector<Tensor>& inputs, const Tensor& v) {
  ParityRun r;
  r.output = c.fn(inputs);
  std::vector<Tensor> wrt;
  for (const Tensor& x : inputs)
    if (x.defined() && x.requires_grad()) wrt.push_back(x);
  if (wrt.empty() || !r.output.requires_grad()) return r;
  const Tensor loss = (r.output * v.to(r.output.device(), r.output.dtype())).sum();
  r.grads = grad({loss}, wrt, {}, std::nullopt, false, /*allow_unused=*/true);
  return r;
}

// "" when got is on device with ref's shape and dtype and values within atol + rtol |ref|.
std::string compare_on(const Tensor& ref, const Tensor& got, Device device, double rtol, double atol) {
  std::ostringstream report;
  if (got.device() != device)
    report << "on " << device_name(got.device()) << ", expected " << device_name(device);
  else if (!(got.shape() == ref.shape()))
    report << "shape " << got.shape() << ", expected " << ref.shape();
  else if (got.dtype() != ref.dtype())
    report << "dtype " << got.dtype() << ", expected " << ref.dtype();
  if (!report.str().empty()) return report.str();
  return test_util::value_mismatch(ref, got, rtol, atol, device_name(device));
}

}  // namespace

std::string device_parity(const GradCase& c, Device device, double rtol, double atol) {
  const std::string dev = device_name(device);
  std::string stage = "making the inputs";
  try {
    manual_seed(7);
    const std::vector<Tensor> ref_inputs = c.inputs();
    stage = "moving the inputs to " + dev;
    const std::vector<Tensor> dev_inputs = inputs_on(ref_inputs, device);
    stage = "the CPU run";
    Tensor v;
    {
      NoGradGuard probe;
      v = randn(c.fn(ref_inputs).shape(), kFloat64);
    }
    // Rows that draw random numbers (dropout...) draw the same ones: one seed gives the same
    // streams on every device.
    manual_seed(8);
    const ParityRun ref = parity_run(c, ref_inputs, v);
    stage = "the " + dev + " run";
    manual_seed(8);
    const ParityRun got = parity_run(c, dev_inputs, v);
    stage = "the comparison";
    if (const std::string r = compare_on(ref.output, got.output, device, rtol, atol); !r.empty()) return "output: " + r;
    if (ref.grads.size() != got.grads.size())
      return std::to_string(got.grads.size()) + " gradients on " + dev + ", " + std::to_string(ref.grads.size()) +
             " on the CPU";
    for (std::size_t i = 0; i < ref.grads.size(); ++i) {
      const std::string what = "gradient of differentiable input " + std::to_string(i);
      if (ref.grads[i].defined() != got.grads[i].defined())
        return what + (ref.grads[i].defined() ? ": undefined on " : ": undefined on the CPU but not on ") + dev;
      if (!ref.grads[i].defined()) continue;
      if (const std::string r = compare_on(ref.grads[i], got.grads[i], device, rtol, atol); !r.empty())
        return what + ": " + r;
    }
    return "";
  } catch (const std::exception& e) {
    return "threw during " + stage + ": " + e.what();
  } catch (...) {
    return "threw during " + stage + " (not a std::exception)";
  }
}

}  // namespace tapeflow::testing
