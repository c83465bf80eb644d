// Every row of the gradient-check table (grad_table_*.cpp), the coverage rule (every op
// registered as differentiable has at least one row), and the rule that every row's function
// keeps to the device of its inputs.
#include <catch2/catch.hpp>
#include <set>

#include "gradcheck.hpp"

using namespace tapeflow;
using namespace tapeflow::testing;

TEST_CASE("every differentiable op has a gradient-check row") {
  std::set<std::string> covered;
  for (const auto& c : grad_cases()) covered.insert(c.op);
  for (const std::string& op : autograd::differentiable_ops()) {
    INFO("op '" << op << "' records on the tape but has no row in tests/autograd/grad_table_*.cpp");
    CHECK(covered.count(op) == 1);
  }
}

TEST_CASE("gradients match finite differences") {
  autograd::set_strict_registry(true);
  for (const auto& c : grad_cases()) {
    INFO(c.op << " [" << c.label << "]");
    CHECK(gradcheck(c) == "");
    if (c.second_order) CHECK(gradgradcheck(c) == "");
  }
  autograd::set_strict_registry(false);
}

// tests/cuda/test_parity_cuda.cpp runs every row's fn on inputs moved to a GPU, so a tensor that fn
// makes on the default device (tensor(...), zeros(...), arange(...)...) breaks it with a
// DeviceError. Without a GPU that test is skipped; this one runs the same check (device_parity)
// on a stand-in: Device(DeviceType::CPU, 1) runs on the CPU backend but is not Device::cpu(), so
// the ops reject mixing it with cpu tensors just as they reject mixing cuda:0 with cpu.
TEST_CASE("every row's function keeps to the device of its inputs") {
  const Device other(DeviceType::CPU, 1);
  // If the stand-in could not be told apart from the default device, this test would check nothing.
  REQUIRE_THROWS_AS(zeros({2}, kFloat64) + zeros({2}, TensorOptions(kFloat64).device(other)), DeviceError);
  for (const auto& c : grad_cases()) {
    INFO(c.op << " [" << c.label << "] on cpu:1, a second CPU device (errors print it as \"cpu\")");
    CHECK(device_parity(c, other, 1e-9, 1e-10) == "");
  }
}
