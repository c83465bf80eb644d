// Tensor metadata, conversions, copies and printing.
#include <catch2/catch.hpp>
#include <sstream>

#include "tapeflow/tapeflow.hpp"

using namespace tapeflow;

TEST_CASE("metadata of a fresh tensor") {
  Tensor x = zeros({2, 3, 4});
  REQUIRE(x.dim() == 3);
  REQUIRE(x.numel() == 24);
  REQUIRE(x.dtype() == kFloat32);
  REQUIRE(x.device() == Device::cpu());
  REQUIRE(x.strides() == Shape{12, 4, 1});
  REQUIRE(x.size(-1) == 4);
  REQUIRE(x.is_contiguous());
  REQUIRE_THROWS_AS(x.size(3), IndexError);
  REQUIRE_THROWS_AS(x.size(-4), IndexError);
  REQUIRE(x.size(-3) == 2);
  REQUIRE(x.stride(-3) == 12);
  REQUIRE_THROWS_AS(x.stride(3), IndexError);
  // A 0-d tensor has no dims to ask about (as in PyTorch).
  const Tensor s = tensor(3.0f);
  REQUIRE_THROWS_AS(s.size(0), IndexError);
  REQUIRE_THROWS_AS(s.size(-1), IndexError);
  REQUIRE_THROWS_AS(s.stride(0), IndexError);
  Tensor u;
  REQUIRE_FALSE(u.defined());
  REQUIRE_THROWS_AS(u.shape(), ValueError);
}

TEST_CASE("dtype conversion follows C casts, bool is nonzero") {
  Tensor x = tensor({-1.5, 0.0, 2.7});
  REQUIRE(x.dtype() == kFloat32);
  Tensor i = x.to(kInt32);
  REQUIRE(i.data_ptr<std::int32_t>()[0] == -1);
  REQUIRE(i.data_ptr<std::int32_t>()[2] == 2);
  Tensor b = x.to(kBool);
  REQUIRE(b.data_ptr<bool>()[0]);
  REQUIRE_FALSE(b.data_ptr<bool>()[1]);
  REQUIRE(x.to(kFloat64)[0].item<double>() == -1.5);
  REQUIRE_THROWS_AS(x.item<float>(), ValueError);
  REQUIRE_THROWS_AS(x.data_ptr<double>(), DTypeError);
}

TEST_CASE("cuda device throws DeviceError without a GPU backend") {
  if (cuda::is_available()) return;
  REQUIRE_THROWS_AS(zeros({2}).to(Device::cuda(0)), DeviceError);
  REQUIRE_THROWS_AS(zeros({2}, Device::cuda(0)), DeviceError);
}

TEST_CASE("devices parse from strings like torch::Device") {
  REQUIRE(Device("cpu") == Device::cpu());
  REQUIRE(Device("cuda") == Device::cuda(0));
  REQUIRE(Device("cuda:3") == Device::cuda(3));
  REQUIRE(Device("cuda:12").index() == 12);
  REQUIRE(Device::cuda(2).str() == "cuda:2");
  for (const char* bad : {"", "gpu", "cuda:", "cuda:x", "cuda0", "cuda:-1", "CPU", "cuda:1234567"}) {
    INFO(bad);
    REQUIRE_THROWS_AS(Device(std::string(bad)), ValueError);
  }
  REQUIRE_THROWS_WITH(Device(std::string("gpu")), Catch::Contains("\"cuda:N\"") && Catch::Contains("\"gpu\""));
}

TEST_CASE("the device error of a missing GPU names the device and the reason") {
  if (cuda::is_available()) return;
  REQUIRE_THROWS_WITH(zeros({2}, Device::cuda(1)), Catch::Contains("cuda:1"));
}

TEST_CASE("copy_ broadcasts and converts; clone is deep; detach shares") {
  Tensor dst = zeros({2, 3}, kFloat64);
  dst.copy_(tensor({1, 2, 3}));
  REQUIRE(dst.data_ptr<double>()[4] == 2.0);
  Tensor c = dst.clone();
  c.fill_(7);
  REQUIRE(dst.data_ptr<double>()[0] == 1.0);
  Tensor d = dst.detach();
  d.zero_();
  REQUIRE(dst.data_ptr<double>()[5] == 0.0);
  REQUIRE_THROWS_AS(dst.copy_(zeros({4})), ShapeError);
}

TEST_CASE("printing looks like PyTorch") {
  std::ostringstream a, b, c, d;
  a << tensor({{1.0, 2.0}, {3.0, 4.0}});
  REQUIRE(a.str() == "tensor([[1., 2.],\n        [3., 4.]])");
  b << tensor({0.5, -1.25}, kFloat64);
  REQUIRE(b.str() == "tensor([ 0.5000, -1.2500], dtype=float64)");
  c << tensor({true, false});
  REQUIRE(c.str() == "tensor([ True, False])");
  d << scalar_tensor(3);
  REQUIRE(d.str() == "tensor(3.)");  // scalar_tensor defaults to float32, as in PyTorch
}
