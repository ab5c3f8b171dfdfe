// Device parsing and printing.
#include <gtest/gtest.h>

#include "vt/device.h"
#include "vt/error.h"

TEST(Device, ParsesTorchForms) {
  EXPECT_TRUE(vt::Device("cpu").is_cpu());
  EXPECT_EQ(vt::Device("cuda:1").index, 1);
  EXPECT_EQ(vt::Device("cuda").index, -1);
  EXPECT_EQ(vt::Device("cuda:3").str(), "cuda:3");
  EXPECT_EQ(vt::Device("cpu").str(), "cpu");
  EXPECT_EQ(vt::Device(vt::DeviceType::CUDA, 0), vt::Device("cuda:0"));
}

TEST(Device, RejectsBadStrings) {
  for (const char* bad : {"gpu", "cuda:", "cuda:-1", "cuda:01", "cuda:1x", "cpu:1", "", "cuda:999"}) {
    EXPECT_THROW(vt::Device{std::string_view(bad)}, vt::Error) << bad;
  }
}
