// Every row of the gradient-check table (grad_table_*.cpp), and the coverage rule: every op
// registered as differentiable has at least one row.
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
