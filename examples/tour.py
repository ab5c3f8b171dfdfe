"""A short tour of vibetensor: tensors, dtypes, views, broadcasting, reductions, matmul,
numpy interop and the op registry."""
import numpy as np

import vibetensor as vt


def section(title):
    print(f"\n== {title}")


section("tensors and dtypes")
x = vt.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
print(x)
print("shape", x.shape, "dtype", x.dtype, "device", x.device)
print(vt.arange(6).reshape(2, 3) + 0.5)  # int64 + Python float -> float32, as in torch

section("views share memory")
column = x[:, 1]
column.fill_(0)
print("after zeroing column 1 through a view:\n", x)
print("transpose strides", x.t().stride(), "is_contiguous", x.t().is_contiguous())

section("broadcasting and promotion")
row = vt.tensor([10, 20, 30], dtype=vt.int32)
print(x + row, (x + row).dtype)
print(vt.where(x > 2, x, vt.zeros_like(x)))

section("reductions")
print("sum", x.sum(), "mean over dim 0", x.mean(0))
print("max over dim 1", x.max(1))

section("matmul (OpenBLAS)")
a = vt.ones(2, 3, 4)
b = vt.arange(20, dtype=vt.float32).reshape(4, 5)
print((a @ b).shape, (a @ b)[0, 0])

section("numpy, zero-copy both ways")
array = np.arange(4, dtype=np.float32)
shared = vt.from_numpy(array)
shared += 1
print("numpy sees the in-place add:", array)

section("the op registry")
print(len(vt.ops.list_ops()), "ops, for example:", vt.ops.schema("add"))

section("autograd: fit y = 3x - 1 by gradient descent")
vt.manual_seed(0)
inputs = vt.randn(64, 1)
targets = inputs * 3 - 1
weight = vt.zeros(1, 1, requires_grad=True)
bias = vt.zeros(1, requires_grad=True)
for step in range(200):
    loss = vt.nn.functional.mse_loss(vt.nn.functional.linear(inputs, weight, bias), targets)
    loss.backward()
    with vt.no_grad():
        weight -= weight.grad * 0.1
        bias -= bias.grad * 0.1
    weight.grad = None
    bias.grad = None
print(f"loss {loss.item():.6f}, weight {weight.item():.4f}, bias {bias.item():.4f}")
