// CPU/GPU parity over the gradient-check table (tests/autograd/grad_table_*.cpp): every row's
// function runs on the CPU and on cuda:0 with the same inputs, and the outputs and the gradients
// of sum(output * v) with respect to every differentiable input must agree. The table covers
// every registered differentiable op, so a new op gets a GPU check as soon as it has its row.
// The comparison is testing::device_parity (tests/autograd/gradcheck.cpp); test_gradcheck.cpp
// runs the same one on a second CPU device, so most placement mistakes show without a GPU.
#include <sstream>
#include <string>
#include <vector>

#include "autograd/gradcheck.hpp"
#include "cuda/cuda_test_util.hpp"

using namespace tapeflow;
using cuda_test::kGpu;

TEST_CASE("every row of the gradient-check table gives the CPU's outputs and gradients on the GPU",
          "[cuda][parity]") {
  // Each row is checked on its own: one that differs or throws fails the test with its name and
  // what went wrong, and the rows after it still run; the summary at the end lists them all.
  std::vector<std::string> failed;
  for (const testing::GradCase& c : testing::grad_cases()) {
    const std::string row = c.op + " (" + c.label + ")";
    // float64 everywhere in the table: the two backends may differ by summation order only.
    const std::string problem = testing::device_parity(c, kGpu, 1e-9, 1e-10);
    if (problem.empty()) continue;
    failed.push_back(row);
    FAIL_CHECK(row << ": " << problem);
  }
  std::ostringstream list;
  for (const std::string& row : failed) list << "\n  " << row;
  INFO(failed.size() << " of " << testing::grad_cases().size() << " rows differ or throw on " << kGpu << ":"
                     << list.str());
  CHECK(failed.empty());
}
