// What users see from the layers: the errors that wrong inputs and options throw (type and
// message), and the one-line descriptions printed for each layer and a model tree.
#include <catch2/catch.hpp>

#include <sstream>

#include "tapeflow/tapeflow.hpp"

using namespace tapeflow;
using Catch::Contains;

namespace {

template <typename M>
std::string printed(const M& module) {
  std::ostringstream os;
  os << module;
  return os.str();
}

}  // namespace

TEST_CASE("Linear rejects inputs of the wrong shape or dtype, saying what it expected", "[nn][layers][errors]") {
  nn::Linear fc(784, 256);
  // The classic mistake: images not flattened.
  CHECK_THROWS_MATCHES(fc(zeros({64, 28, 28})), ShapeError,
                       Catch::Message("[Linear] expected input with last dimension 784 (in_features), got shape "
                                      "(64, 28, 28)"));
  CHECK_THROWS_WITH(fc(zeros({})), Contains("last dimension 784") && Contains("got shape ()"));
  CHECK_THROWS_MATCHES(fc(zeros({2, 784}, kInt64)), DTypeError,
                       Catch::Message("[Linear] expected a floating-point input, got dtype int64"));
  CHECK_THROWS_WITH(fc(zeros({2, 784}, kFloat64)), Contains("expected input of dtype float32") && Contains("float64"));
  CHECK_THROWS_AS(fc(Tensor()), ValueError);
  CHECK(fc(zeros({64, 784})).shape() == Shape{64, 256});
  CHECK_THROWS_AS(nn::Linear(-1, 3), ValueError);
}

TEST_CASE("Bilinear checks both inputs", "[nn][layers][errors]") {
  nn::Bilinear bl(3, 4, 2);
  CHECK_THROWS_WITH(bl(zeros({5, 4}), zeros({5, 4})), Contains("input1 with last dimension 3 (in1_features)"));
  CHECK_THROWS_WITH(bl(zeros({5, 3}), zeros({5, 3})), Contains("input2 with last dimension 4 (in2_features)"));
  CHECK_THROWS_WITH(bl(zeros({5, 3}), zeros({6, 4})), Contains("same leading dimensions") && Contains("(6, 4)"));
}

TEST_CASE("Conv layers check dims and channels", "[nn][layers][errors]") {
  nn::Conv2d conv(3, 8, 3);
  CHECK_THROWS_MATCHES(conv(zeros({28, 28})), ShapeError,
                       Catch::Message("[Conv2d] expected 3-D (C, H, W) or 4-D (N, C, H, W) input, got shape (28, 28)"));
  CHECK_THROWS_MATCHES(conv(zeros({4, 1, 28, 28})), ShapeError,
                       Catch::Message("[Conv2d] expected input with 3 channels (in_channels) in dim 1, got shape "
                                      "(4, 1, 28, 28)"));
  CHECK_THROWS_WITH(conv(zeros({1, 28, 28})), Contains("3 channels (in_channels) in dim 0"));
  CHECK_THROWS_AS(conv(zeros({1, 3, 2, 2})), ShapeError);  // smaller than the kernel
  CHECK_THROWS_AS(conv(zeros({1, 3, 5, 5}, kInt32)), DTypeError);
  nn::Conv1d conv1(2, 4, 3);
  CHECK_THROWS_MATCHES(conv1(zeros({1, 2, 5, 5})), ShapeError,
                       Catch::Message("[Conv1d] expected 2-D (C, L) or 3-D (N, C, L) input, got shape (1, 2, 5, 5)"));
  CHECK_THROWS_WITH(conv1(zeros({1, 2, 2})), Contains("[conv1d] kernel of effective size 3"));
  // Options are checked when the layer is built.
  CHECK_THROWS_WITH(nn::Conv2d(nn::Conv2dOptions(3, 8, 3).groups(2)), Contains("divisible by groups"));
  CHECK_THROWS_AS(nn::Conv2d(nn::Conv2dOptions(4, 8, 0)), ValueError);
  CHECK_THROWS_AS(nn::Conv2d(nn::Conv2dOptions(4, 8, 3).stride(0)), ValueError);
  CHECK_THROWS_AS(nn::Conv2d(nn::Conv2dOptions(4, 8, 3).padding(-1)), ValueError);
  CHECK_THROWS_WITH(nn::Conv2dOptions(4, 8, {3, 3, 3}), Contains("expected 1 or 2 values"));
}

TEST_CASE("pooling layers check dims and dtype", "[nn][layers][errors]") {
  nn::MaxPool2d pool(2);
  CHECK_THROWS_MATCHES(pool(zeros({4, 4})), ShapeError,
                       Catch::Message("[MaxPool2d] expected 3-D or 4-D input (C, H, W) or (N, C, H, W), got shape "
                                      "(4, 4)"));
  CHECK_THROWS_AS(nn::AvgPool2d(2)(zeros({1, 4, 4}, kInt64)), DTypeError);
  CHECK_THROWS_AS(nn::AdaptiveAvgPool2d(3)(zeros({2, 2, 2, 2, 2})), ShapeError);
}

TEST_CASE("normalisation layers check channels and dims", "[nn][layers][errors]") {
  nn::BatchNorm2d bn(16);
  CHECK_THROWS_MATCHES(bn(zeros({8, 3, 32, 32})), ShapeError,
                       Catch::Message("[BatchNorm2d] expected input with 16 channels (num_features) in dim 1, got "
                                      "shape (8, 3, 32, 32)"));
  CHECK_THROWS_MATCHES(bn(zeros({16, 32, 32})), ShapeError,
                       Catch::Message("[BatchNorm2d] expected 4-D input (N, C, H, W), got shape (16, 32, 32)"));
  CHECK_THROWS_WITH(nn::BatchNorm1d(4)(zeros({2, 4, 3, 3})), Contains("expected 2-D or 3-D input (N, C) or (N, C, L)"));
  CHECK_THROWS_WITH(nn::BatchNorm1d(4)(zeros({1, 4})), Contains("more than 1 value per channel"));
  CHECK_THROWS_AS(nn::BatchNorm1d(0), ValueError);
  CHECK_THROWS_AS(nn::BatchNorm1d(nn::BatchNorm1dOptions(3).momentum(1.5)), ValueError);
  CHECK_THROWS_AS(bn(zeros({2, 16, 2, 2}, kFloat64)), DTypeError);

  nn::LayerNorm ln(std::vector<std::int64_t>{10});
  CHECK_THROWS_MATCHES(ln(zeros({3, 5})), ShapeError,
                       Catch::Message("[LayerNorm] expected input with trailing dimensions (10) (normalized_shape), "
                                      "got shape (3, 5)"));
  CHECK_THROWS_AS(nn::LayerNorm(std::vector<std::int64_t>{}), ValueError);
}

TEST_CASE("Embedding checks indices and padding_idx", "[nn][layers][errors]") {
  nn::Embedding emb(10, 3);
  CHECK_THROWS_MATCHES(emb(zeros({4})), DTypeError,
                       Catch::Message("[Embedding] expected integer indices (int64 or int32), got dtype float32"));
  CHECK_THROWS_WITH(emb(tensor({1, 10})), Contains("index 10 is out of range for 10 embeddings"));
  CHECK_THROWS_AS(emb(tensor({-1})), IndexError);
  CHECK_THROWS_WITH(nn::Embedding(nn::EmbeddingOptions(10, 3).padding_idx(10)), Contains("padding_idx"));
  CHECK_THROWS_AS(nn::Embedding(nn::EmbeddingOptions(10, 3).padding_idx(-11)), ValueError);
  CHECK_THROWS_AS(nn::Embedding(nn::EmbeddingOptions(10, 3)._weight(zeros({10, 4}))), ShapeError);
  CHECK_THROWS_AS(nn::Embedding::from_pretrained(zeros({10})), ShapeError);
  CHECK_THROWS_AS(embedding(zeros({4, 2}), tensor({1}), 4), ValueError);  // the functional form too
}

TEST_CASE("other layers' errors", "[nn][layers][errors]") {
  CHECK_THROWS_AS(nn::Dropout(1.5), ValueError);
  CHECK_THROWS_AS(nn::Dropout(0.5)(zeros({3}, kInt64)), DTypeError);
  CHECK_THROWS_WITH(nn::GELU("fast"), Contains("approximate must be \"none\" or \"tanh\""));
  CHECK_THROWS_WITH(nn::Flatten(1, 5)(zeros({2, 3, 4})), Contains("[Flatten]") && Contains("(2, 3, 4)"));
  CHECK_THROWS_AS(nn::Flatten(2, 1)(zeros({2, 3, 4})), ValueError);
  CHECK_THROWS_AS(nn::Softmax(3)(zeros({2, 3})), IndexError);
}

TEST_CASE("each layer prints like PyTorch's C++ frontend", "[nn][layers][print]") {
  CHECK(printed(nn::Linear(784, 256)) == "Linear(in_features=784, out_features=256, bias=true)");
  CHECK(printed(nn::Linear(nn::LinearOptions(3, 2).bias(false))) == "Linear(in_features=3, out_features=2, bias=false)");
  CHECK(printed(nn::Bilinear(2, 3, 4)) == "Bilinear(in1_features=2, in2_features=3, out_features=4, bias=true)");
  CHECK(printed(nn::Identity()) == "Identity()");
  CHECK(printed(nn::Conv2d(1, 8, 3)) == "Conv2d(1, 8, kernel_size=[3, 3], stride=[1, 1])");
  CHECK(printed(nn::Conv2d(nn::Conv2dOptions(4, 8, {3, 5}).stride(2).padding(1).dilation(2).groups(2).bias(false))) ==
        "Conv2d(4, 8, kernel_size=[3, 5], stride=[2, 2], padding=[1, 1], dilation=[2, 2], groups=2, bias=false)");
  CHECK(printed(nn::Conv1d(3, 4, 5)) == "Conv1d(3, 4, kernel_size=[5], stride=[1])");
  CHECK(printed(nn::MaxPool2d(2)) == "MaxPool2d(kernel_size=[2, 2], stride=[2, 2])");
  CHECK(printed(nn::MaxPool2d(nn::MaxPool2dOptions(3).stride(2).padding(1).ceil_mode(true))) ==
        "MaxPool2d(kernel_size=[3, 3], stride=[2, 2], padding=[1, 1], ceil_mode=true)");
  CHECK(printed(nn::AvgPool2d(nn::AvgPool2dOptions({2, 3}).count_include_pad(false))) ==
        "AvgPool2d(kernel_size=[2, 3], stride=[2, 3], count_include_pad=false)");
  CHECK(printed(nn::AdaptiveAvgPool2d(nn::AdaptiveAvgPool2dOptions({5, 7}))) == "AdaptiveAvgPool2d(output_size=[5, 7])");
  CHECK(printed(nn::BatchNorm2d(16)) ==
        "BatchNorm2d(16, eps=1e-05, momentum=0.1, affine=true, track_running_stats=true)");
  CHECK(printed(nn::BatchNorm1d(nn::BatchNorm1dOptions(4).momentum(std::nullopt).affine(false))) ==
        "BatchNorm1d(4, eps=1e-05, momentum=None, affine=false, track_running_stats=true)");
  CHECK(printed(nn::LayerNorm(nn::LayerNormOptions({10, 20}).eps(1e-6))) ==
        "LayerNorm([10, 20], eps=1e-06, elementwise_affine=true)");
  CHECK(printed(nn::Dropout(0.25)) == "Dropout(p=0.25)");
  CHECK(printed(nn::Embedding(100, 16)) == "Embedding(num_embeddings=100, embedding_dim=16)");
  CHECK(printed(nn::Embedding(nn::EmbeddingOptions(100, 16).padding_idx(-1))) ==
        "Embedding(num_embeddings=100, embedding_dim=16, padding_idx=99)");
  CHECK(printed(nn::Flatten()) == "Flatten(start_dim=1, end_dim=-1)");
  CHECK(printed(nn::ReLU()) == "ReLU()");
  CHECK(printed(nn::ReLU(true)) == "ReLU(inplace=true)");
  CHECK(printed(nn::GELU()) == "GELU()");
  CHECK(printed(nn::GELU("tanh")) == "GELU(approximate='tanh')");
  CHECK(printed(nn::Tanh()) == "Tanh()");
  CHECK(printed(nn::Sigmoid()) == "Sigmoid()");
  CHECK(printed(nn::SiLU()) == "SiLU()");
  CHECK(printed(nn::LeakyReLU(0.2)) == "LeakyReLU(negative_slope=0.2)");
  CHECK(printed(nn::LeakyReLU()) == "LeakyReLU(negative_slope=0.01)");
  CHECK(printed(nn::Softmax(1)) == "Softmax(dim=1)");
  CHECK(printed(nn::LogSoftmax(-1)) == "LogSoftmax(dim=-1)");
}

TEST_CASE("a model prints as a tree of layers", "[nn][layers][print]") {
  nn::Sequential net(nn::Conv2d(nn::Conv2dOptions(1, 8, 3).padding(1)), nn::BatchNorm2d(8), nn::ReLU(),
                     nn::MaxPool2d(2), nn::Flatten(), nn::Linear(8 * 14 * 14, 10));
  CHECK(printed(net) ==
        "Sequential(\n"
        "  (0): Conv2d(1, 8, kernel_size=[3, 3], stride=[1, 1], padding=[1, 1])\n"
        "  (1): BatchNorm2d(8, eps=1e-05, momentum=0.1, affine=true, track_running_stats=true)\n"
        "  (2): ReLU()\n"
        "  (3): MaxPool2d(kernel_size=[2, 2], stride=[2, 2])\n"
        "  (4): Flatten(start_dim=1, end_dim=-1)\n"
        "  (5): Linear(in_features=1568, out_features=10, bias=true)\n"
        ")");
}
