#include <catch2/catch.hpp>

#include <cstdint>

#include "tinynet/core/tensor.hpp"

using tinynet::Error;
using tinynet::Shape;
using tinynet::Tensor;

TEST_CASE("Shape basics and printing", "[core]") {
  Shape s{8, 3, 32, 32};
  CHECK(s.rank() == 4);
  CHECK(s.numel() == 8 * 3 * 32 * 32);
  CHECK(s.str() == "[8,3,32,32]");
  CHECK(s.drop_front() == Shape{3, 32, 32});
  CHECK(Shape{3, 32, 32}.prepend(5) == Shape{5, 3, 32, 32});
  CHECK_THROWS_AS((Shape{1, 2, 3, 4, 5}), Error);
  CHECK_THROWS_WITH(s[4], Catch::Contains("[8,3,32,32]"));
}

TEST_CASE("Tensor storage is zeroed, 64-byte aligned and shared by views", "[core]") {
  Tensor<float> t(Shape{2, 3, 4, 5});
  CHECK(reinterpret_cast<std::uintptr_t>(t.data()) % 64 == 0);
  for (float v : t) CHECK(v == 0.0f);
  t.at(1, 2, 3, 4) = 7.0f;
  CHECK(t[t.numel() - 1] == 7.0f);
  Tensor<float> second = t.batch_slice(1, 1);
  CHECK(second.shape() == Shape{1, 3, 4, 5});
  CHECK(second.at(0, 2, 3, 4) == 7.0f);
  second.at(0, 0, 0, 0) = 1.0f;
  CHECK(t.at(1, 0, 0, 0) == 1.0f);  // a view, not a copy
  Tensor<float> copy = t.clone();
  copy.at(1, 0, 0, 0) = 5.0f;
  CHECK(t.at(1, 0, 0, 0) == 1.0f);
  CHECK(t.reshaped(Shape{2, 60}).dim(1) == 60);
}

TEST_CASE("Tensor errors name the operation and the shapes", "[core]") {
  Tensor<float> t(Shape{2, 3});
  CHECK_THROWS_WITH(t.reshaped(Shape{7}), Catch::Contains("reshaped") && Catch::Contains("[2,3]") &&
                                               Catch::Contains("[7]"));
  CHECK_THROWS_WITH(t.view(4, Shape{3}), Catch::Contains("view") && Catch::Contains("[2,3]"));
  CHECK_THROWS_WITH(t.batch_slice(1, 2), Catch::Contains("batch_slice"));
  Tensor<float> four(Shape{1, 1, 2, 2});
  CHECK_THROWS_WITH(four.at(0, 0, 2, 0), Catch::Contains("out of range"));
  CHECK_THROWS_WITH((Tensor<float>(Shape{2}, {1.0f, 2.0f, 3.0f})), Catch::Contains("3 values"));
  CHECK_THROWS_WITH(Tensor<float>(Shape{4}).copy_from(t), Catch::Contains("[2,3]"));
}

TEST_CASE("resize keeps storage when large enough", "[core]") {
  Tensor<float> t(Shape{4, 4});
  const float* before = t.data();
  t.resize(Shape{2, 8});
  CHECK(t.data() == before);
  t.resize(Shape{2});
  CHECK(t.data() == before);
  t.resize(Shape{100});
  CHECK(t.numel() == 100);
}

TEST_CASE("CUDA tensors need the cuDNN backend", "[core]") {
#ifndef TINYNET_WITH_CUDNN
  CHECK_THROWS_WITH(Tensor<float>(Shape{4}, tinynet::Device::cuda), Catch::Contains("TINYNET_WITH_CUDNN"));
#else
  SUCCEED("built with the cuDNN backend");
#endif
}
