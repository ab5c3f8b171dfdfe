"""vibetensor against PyTorch on one GPU, in the same run:

1. per-op overhead from Python: the host time to issue small ops back to back (the GPU
   keeps up, so this is the Python + dispatch + launch cost), in microseconds;
2. bandwidth on 256 MiB float32 tensors, of the elementwise and reduction kernels, as a fraction
   of the device-to-device copy bandwidth that the same library measures in the same run;
3. matmul TFLOP/s at 4096 and 8192, bfloat16 and float32 (TF32 allowed), through each library;
4. sort along the last dim (values and indices), in milliseconds: one long row, and many short
   rows (the block and segmented paths), float32 and int64;
5. conv2d forward, and forward + backward, of ResNet-50-like layers, in milliseconds.

Ratios are vibetensor / torch (time: lower is better for vibetensor; TFLOP/s and bandwidth:
higher is better). Usage: python3 bench/bench_cuda.py [--quick] [--only overhead,sort,...]
"""
import argparse
import sys
import time

import torch

import vibetensor as vt

LIBS = {"vibetensor": vt, "torch": torch}


def gpu_time_per_call(lib, fn, calls, repeats):
    """Best time per call in seconds, measured with the library's own CUDA events."""
    fn()
    lib.cuda.synchronize()
    best = float("inf")
    for _ in range(repeats):
        start, end = lib.cuda.Event(enable_timing=True), lib.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(calls):
            fn()
        end.record()
        end.synchronize()
        best = min(best, start.elapsed_time(end) / 1e3 / calls)
    return best


def host_time_per_call(lib, fn, calls, repeats):
    """Best host time per call in seconds to issue `calls` ops (synchronized outside the timing)."""
    for _ in range(10):
        fn()
    lib.cuda.synchronize()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        best = min(best, (time.perf_counter() - start) / calls)
        lib.cuda.synchronize()
    return best


def per_library(what, measure):
    """(vibetensor's, torch's) measure(lib); None, with a line saying why, where a library fails
    (an op vibetensor lacks on CUDA is reported, not fatal)."""
    results = {}
    for name, lib in LIBS.items():
        try:
            results[name] = measure(lib)
        except Exception as exc:  # noqa: BLE001
            results[name] = None
            print(f"  {what}: {name} failed: {type(exc).__name__}: {str(exc).splitlines()[0]}")
    return results["vibetensor"], results["torch"]


def print_row(label, v, t, label_width, digits, ratio_width=10, ratio_digits=3):
    """A table row: the label, both libraries' figures and vibetensor / torch."""
    ratio = f"{v / t:{ratio_width}.{ratio_digits}f}" if v and t else f"{'n/a':>{ratio_width}}"
    print(f"{label:<{label_width}}{v or float('nan'):>12.{digits}f}{t or float('nan'):>10.{digits}f}{ratio}")


def overhead_cases(lib):
    a = lib.ones(1024, device="cuda")
    b = lib.ones(1024, device="cuda")
    m = lib.ones(64, 64, device="cuda")
    return {
        "add a + b": lambda: a + b,
        "mul a * 2.0": lambda: a * 2.0,
        "exp": lambda: lib.exp(a),
        "relu": lambda: lib.relu(a),
        "sum": lambda: a.sum(),
        "matmul 64x64": lambda: m @ m,
    }


def bench_overhead(quick):
    print("per-op host overhead, 1024-element float32 CUDA tensors (us per op)")
    print(f"{'op':<16}{'vibetensor':>12}{'torch':>10}{'ratio':>8}")
    cases = {lib: overhead_cases(lib) for lib in LIBS.values()}
    calls, repeats = (200, 3) if quick else (1000, 7)
    for op in cases[torch]:
        v, t = per_library(op, lambda lib: host_time_per_call(lib, cases[lib][op], calls, repeats) * 1e6)
        print_row(op, v, t, 16, 2, ratio_width=8, ratio_digits=2)


def bandwidth_cases(lib, n):
    x = lib.rand(n).to("cuda")  # made on the host: the comparison is about the kernels below
    y = lib.rand(n).to("cuda")
    z = lib.empty(n, device="cuda")
    rows = x.view(n // 4096, 4096)
    cols = x.view(4096, n // 4096)
    nbytes = x.numel() * 4
    return {  # name: (fn, bytes moved)
        "copy_": (lambda: z.copy_(x), 2 * nbytes),
        "add(out=)": (lambda: lib.add(x, y, out=z), 3 * nbytes),
        "mul(out=) by 2.0": (lambda: lib.mul(x, 2.0, out=z), 2 * nbytes),
        "exp(out=)": (lambda: lib.exp(x, out=z), 2 * nbytes),
        "sum()": (lambda: x.sum(), nbytes),
        "amax()": (lambda: x.amax(), nbytes),
        "sum(dim=-1) [N,4096]": (lambda: rows.sum(dim=-1), nbytes),
        "sum(dim=0) [4096,N]": (lambda: cols.sum(dim=0), nbytes),
        "amax(dim=-1) [N,4096]": (lambda: rows.amax(dim=-1), nbytes),
        "amax(dim=0) [4096,N]": (lambda: cols.amax(dim=0), nbytes),
    }


def bench_bandwidth(quick):
    n = (256 << 20) // 4
    print(f"\nbandwidth on 256 MiB float32 tensors (GB/s; 'of copy': the fraction of the same library's copy_)")
    print(f"{'op':<22}{'vt GB/s':>9}{'of copy':>9}{'torch GB/s':>12}{'of copy':>9}{'vt/torch':>10}")
    results = {}
    for name, lib in LIBS.items():
        cases = bandwidth_cases(lib, n)
        results[name] = {}
        for op, (fn, nbytes) in cases.items():
            try:
                seconds = gpu_time_per_call(lib, fn, 3 if quick else 10, 3 if quick else 5)
                results[name][op] = nbytes / seconds / 1e9
            except Exception as exc:  # noqa: BLE001
                results[name][op] = None
                print(f"  {op}: {name} failed: {type(exc).__name__}: {str(exc).splitlines()[0]}")
        del cases
        lib.cuda.empty_cache()
    for op in results["torch"]:
        v, t = results["vibetensor"][op], results["torch"][op]
        v_copy, t_copy = results["vibetensor"]["copy_"], results["torch"]["copy_"]
        vf = f"{v / v_copy:9.2f}" if v and v_copy else "      n/a"
        tf = f"{t / t_copy:9.2f}" if t and t_copy else "      n/a"
        ratio = f"{v / t:10.2f}" if v and t else "       n/a"
        print(f"{op:<22}{v or float('nan'):>9.0f}{vf}{t or float('nan'):>12.0f}{tf}{ratio}")


def bench_matmul(quick):
    print("\nmatmul TFLOP/s (n x n @ n x n)")
    print(f"{'case':<22}{'vibetensor':>12}{'torch':>10}{'vt/torch':>10}")
    torch.backends.cuda.matmul.allow_tf32 = True
    if hasattr(vt, "backends") and hasattr(vt.backends, "cuda"):
        vt.backends.cuda.matmul.allow_tf32 = True
    for dtype in ("bfloat16", "float32"):
        for n in (4096, 8192):
            v, t = per_library(f"{dtype} {n}", lambda lib: 2 * n ** 3 / matmul_seconds(lib, dtype, n, quick) / 1e12)
            print_row(f"{dtype}{' (TF32)' if dtype == 'float32' else ''} {n}", v, t, 22, 1)


def matmul_seconds(lib, dtype, n, quick):
    a = lib.rand(n, n).to("cuda").to(getattr(lib, dtype))
    b = lib.rand(n, n).to("cuda").to(getattr(lib, dtype))
    return gpu_time_per_call(lib, lambda: a @ b, 3 if quick else 10, 3 if quick else 5)


def bench_sort(quick):
    print("\nsort along the last dim (ms per call)")
    print(f"{'case':<26}{'vibetensor':>12}{'torch':>10}{'vt/torch':>10}")
    for shape in ((1 << 24,), (1024, 16000), (4096, 4096), (16384, 1024), (65536, 64)):
        for dtype in ("float32", "int64"):
            v, t = per_library(f"{shape} {dtype}", lambda lib: sort_seconds(lib, dtype, shape, quick) * 1e3)
            print_row(f"{dtype} {'x'.join(map(str, shape))}", v, t, 26, 3)


def sort_seconds(lib, dtype, shape, quick):
    x = lib.randn(*shape).mul(1000).to(getattr(lib, dtype)).to("cuda")
    return gpu_time_per_call(lib, lambda: lib.sort(x, dim=-1), 3 if quick else 10, 3 if quick else 5)


CONV_LAYERS = {  # name: (input shape, out channels, kernel, stride, padding)
    "stem 7x7/2 3->64 224": ((32, 3, 224, 224), 64, 7, 2, 3),
    "3x3 64->64 56": ((32, 64, 56, 56), 64, 3, 1, 1),
    "1x1 256->64 56": ((32, 256, 56, 56), 64, 1, 1, 0),
    "3x3 256->256 14": ((32, 256, 14, 14), 256, 3, 1, 1),
}


def bench_conv(quick):
    print("\nconv2d, batch 32 (ms per call; float32 with TF32 allowed)")
    print(f"cuDNN: vibetensor {vt.backends.cudnn.version()}, torch {torch.backends.cudnn.version()}")
    print(f"{'case':<40}{'vibetensor':>12}{'torch':>10}{'vt/torch':>10}")
    torch.backends.cudnn.allow_tf32 = vt.backends.cudnn.allow_tf32 = True
    vt.backends.cuda.matmul.allow_tf32 = True  # a build without cuDNN runs conv as matrix products
    for benchmark in (False, True):  # cuDNN's heuristics, then timing every algorithm once per shape
        print(f"backends.cudnn.benchmark = {benchmark}")
        torch.backends.cudnn.benchmark = vt.backends.cudnn.benchmark = benchmark
        for dtype in ("bfloat16", "float32"):
            for name, layer in CONV_LAYERS.items():
                for backward in (False, True):
                    label = f"{dtype} {name}{' fwd+bwd' if backward else ''}"
                    v, t = per_library(label, lambda lib: conv_seconds(lib, dtype, layer, backward, quick) * 1e3)
                    print_row(label, v, t, 40, 3)
    torch.backends.cudnn.benchmark = vt.backends.cudnn.benchmark = False


def conv_seconds(lib, dtype, layer, backward, quick):
    shape, out_channels, kernel, stride, padding = layer
    dt = getattr(lib, dtype)
    x = lib.randn(*shape).to("cuda").to(dt).requires_grad_(backward)
    w = (lib.randn(out_channels, shape[1], kernel, kernel) * 0.05).to("cuda").to(dt).requires_grad_(backward)

    def forward_backward():
        out = lib.nn.functional.conv2d(x, w, stride=stride, padding=padding)
        if backward:
            out.backward(lib.ones_like(out))

    return gpu_time_per_call(lib, forward_backward, 2 if quick else 5, 3)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--only", default=",".join(SECTIONS), help="comma-separated sections: " + ", ".join(SECTIONS))
    args = parser.parse_args()
    chosen = args.only.split(",")
    unknown = sorted(set(chosen) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown sections {unknown}; choose from {list(SECTIONS)}")
    if not (torch.cuda.is_available() and vt.cuda.is_available()):
        print("bench_cuda: needs a CUDA device (and a CUDA build of both libraries); skipped")
        return 0
    print(f"device: {torch.cuda.get_device_name()}; torch {torch.__version__}")
    for name in chosen:
        SECTIONS[name](args.quick)
    return 0


SECTIONS = {"overhead": bench_overhead, "bandwidth": bench_bandwidth, "matmul": bench_matmul, "sort": bench_sort,
            "conv": bench_conv}


if __name__ == "__main__":
    sys.exit(main())
