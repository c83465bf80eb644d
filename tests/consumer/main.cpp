// A user's program: builds against the installed tapeflow (pkg-config) or a subproject, and
// prints a value computed by the library so the test script can check it.
#include <iostream>

#include <tapeflow/tapeflow.hpp>

int main() {
  namespace tf = tapeflow;
  tf::Tensor x = tf::arange(6, tf::kFloat64).reshape({2, 3});
  tf::Tensor y = tf::cat({x, x.narrow(0, 1, 1)}, 0);  // rows 0,1,1 -> sum 0+1+...+5 + 3+4+5
  double total = 0;
  tf::Tensor c = y.contiguous();
  for (std::int64_t i = 0; i < c.numel(); ++i) total += c.data_ptr<double>()[i];
  std::cout << "consumer-ok " << total << "\n";
  return total == 27.0 ? 0 : 1;
}
