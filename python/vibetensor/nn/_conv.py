"""3-D and transposed convolutions, conv_tbc and bilinear, composed from vibetensor's ops with
torch's signatures.

conv3d is im2col through strided window views and one matrix product batched over the groups, like
the C++ conv2d. A transposed convolution is the convolution whose adjoint it is: spread the
input out by the stride (zeros in between), pad by the dilated kernel span less the padding,
and correlate with the kernel flipped and its in/out channels swapped.
"""
import math

import vibetensor as vt
from vibetensor._C import _nn
from vibetensor.nn._utils import batched, ntuple, unbatch, windows



def _check_window(stride, dilation, padding):
    """torch's checks of a convolution window, with its messages."""
    if min(stride) <= 0:
        raise RuntimeError("non-positive stride is not supported")
    if min(dilation) <= 0:
        raise RuntimeError("dilation should be greater than zero")
    if min(padding) < 0:
        raise RuntimeError("negative padding is not supported")

def _same_padding(kernel, dilation):
    """(left, right) padding per dim that keeps the size at stride 1; the odd extra goes right."""
    totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
    return [(t // 2, t - t // 2) for t in totals]


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    x, unbatched = batched(input, 3, "conv3d")
    if weight.dim() != 5:
        raise RuntimeError(f"conv3d(): weight should be 5-D, got {weight.dim()}-D")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    n, channels = x.shape[0], x.shape[1]
    out_channels, per_group = weight.shape[0], weight.shape[1]
    if channels != per_group * groups:
        raise RuntimeError(f"Given groups={groups}, weight of size {list(weight.shape)}, expected input"
                           f"{list(x.shape)} to have {per_group * groups} channels, but got {channels} channels "
                           f"instead")
    if out_channels % groups:
        raise RuntimeError("out_channels must be divisible by groups")
    kernel = list(weight.shape[2:])
    stride = ntuple(stride, 3, "stride", "conv3d")
    dilation = ntuple(dilation, 3, "dilation", "conv3d")
    if isinstance(padding, str):
        if padding == "valid":
            padding = (0, 0, 0)
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            sides = _same_padding(kernel, dilation)
            x = _nn.pad(x, [p for pair in reversed(sides) for p in pair])
            padding = (0, 0, 0)
        else:
            raise RuntimeError(f"Invalid padding string: '{padding}'")
    padding = ntuple(padding, 3, "padding", "conv3d")
    _check_window(stride, dilation, padding)
    spans = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    if any(s + 2 * p < span for s, p, span in zip(x.shape[2:], padding, spans)):
        raise RuntimeError(f"Calculated padded input size per channel: "
                           f"({' x '.join(str(s + 2 * p) for s, p in zip(x.shape[2:], padding))}). Kernel size: "
                           f"({' x '.join(map(str, kernel))}). Kernel size can't be greater than actual input size")
    cols = windows(x, kernel, stride, padding, dilation, False, 0)  # [N, C, OD, OH, OW, KD, KH, KW]
    od, oh, ow = cols.shape[2:5]
    # [G, N*OD*OH*OW, C/G*K] @ [G, C/G*K, O/G] -> [G, N*OD*OH*OW, O/G]
    cols = cols.reshape([n, groups, per_group, od, oh, ow] + kernel).permute(1, 0, 3, 4, 5, 2, 6, 7, 8)
    cols = cols.reshape(groups, n * od * oh * ow, per_group * math.prod(kernel))
    kernels = weight.reshape(groups, out_channels // groups, per_group * math.prod(kernel)).transpose(1, 2)
    out = cols.matmul(kernels).permute(1, 0, 2).reshape(n, od, oh, ow, out_channels)
    if bias is not None:
        out = out + bias
    return unbatch(out.permute(0, 4, 1, 2, 3), unbatched)


def _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, nd, fn, conv):
    x, unbatched = batched(input, nd, fn)
    if weight.dim() != nd + 2:
        raise RuntimeError(f"{fn}(): weight should be {nd + 2}-D, got {weight.dim()}-D")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    n, channels = x.shape[0], x.shape[1]
    if channels != weight.shape[0]:
        raise RuntimeError(f"Given transposed=1, weight of size {list(weight.shape)}, expected input{list(x.shape)} to "
                           f"have {weight.shape[0]} channels, but got {channels} channels instead")
    if channels % groups:
        raise RuntimeError(f"{fn}(): in_channels ({channels}) must be divisible by groups ({groups})")
    stride = ntuple(stride, nd, "stride", fn)
    padding = ntuple(padding, nd, "padding", fn)
    output_padding = ntuple(output_padding, nd, "output_padding", fn)
    dilation = ntuple(dilation, nd, "dilation", fn)
    _check_window(stride, dilation, padding)
    if min(output_padding) < 0:
        raise RuntimeError("negative output_padding is not supported")
    if any(op >= s and op >= d for op, s, d in zip(output_padding, stride, dilation)):
        raise RuntimeError(f"output padding must be smaller than either stride or dilation, but got output_padding: "
                           f"{list(output_padding)}, stride: {list(stride)}, dilation: {list(dilation)}")
    kernel = list(weight.shape[2:])
    spatial = list(x.shape[2:])
    if any(s > 1 for s in stride):
        spread = vt.zeros([n, channels] + [(size - 1) * s + 1 for size, s in zip(spatial, stride)], dtype=x.dtype,
                          device=x.device)
        spread[(Ellipsis,) + tuple(slice(None, None, s) for s in stride)] = x
        x = spread
    # Pad each side by the dilated kernel span less `padding` (a negative amount crops), and the
    # right side by output_padding as well.
    pads = []
    for k, d, p, op in reversed(list(zip(kernel, dilation, padding, output_padding))):
        edge = d * (k - 1) - p
        pads += [edge, edge + op]
    if any(pads):
        x = _nn.pad(x, pads)
    # [C_in, C_out/G, *k] -> [C_out, C_in/G, *k], flipped in space.
    per_group = channels // groups
    flipped = weight.reshape([groups, per_group, weight.shape[1]] + kernel).transpose(1, 2)
    flipped = flipped.reshape([groups * weight.shape[1], per_group] + kernel).flip(list(range(2, 2 + nd)))
    return unbatch(conv(x, flipped, bias, 1, 0, dilation, groups), unbatched)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 1,
                           "conv_transpose1d", _nn.conv1d)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 2,
                           "conv_transpose2d", _nn.conv2d)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 3,
                           "conv_transpose3d", conv3d)


def conv_tbc(input, weight, bias, pad=0):
    if input.dim() != 3:
        raise RuntimeError("Input must have 3 dims: time, batch, in_channel")
    if weight.dim() != 3:
        raise RuntimeError("Weight tensor must have 3 dims: kernel_width, in_channels, out_channels.")
    if bias.dim() != 1:
        raise RuntimeError("Bias must be 1-D")
    if input.shape[2] != weight.shape[1]:
        raise RuntimeError("Input dim 2 (input channels) is not == dim 1 in the weight tensor")
    if weight.shape[2] != bias.shape[0]:
        raise RuntimeError("Bias size must equal dim 2 in the weight tensor (output channels).")
    # (time, batch, channels) is conv1d's (batch, channels, time) permuted; the kernel is not flipped.
    out = _nn.conv1d(input.permute(1, 2, 0), weight.permute(2, 1, 0), bias, 1, pad)
    return out.permute(2, 0, 1)


def bilinear(input1, input2, weight, bias=None):
    if input1.dim() != input2.dim():
        raise RuntimeError(f"bilinear(): input dimensions do not match: got {input1.dim()} and {input2.dim()}")
    if tuple(input1.shape[:-1]) != tuple(input2.shape[:-1]):
        raise RuntimeError(f"bilinear(): input batch dimensions do not match: got {list(input1.shape)} and "
                           f"{list(input2.shape)}")
    if weight.dim() != 3:
        raise RuntimeError(f"bilinear(): weight must be 3-D, got {weight.dim()}-D")
    outputs, left, right = weight.shape
    if input1.shape[-1] != left:
        raise RuntimeError(f"bilinear(): input1 size does not match weight size: got {input1.shape[-1]} but expected "
                           f"{left}")
    if input2.shape[-1] != right:
        raise RuntimeError(f"bilinear(): input2 size does not match weight size: got {input2.shape[-1]} but expected "
                           f"{right}")
    if bias is not None and (bias.dim() != 1 or bias.shape[0] != outputs):
        raise RuntimeError(f"bilinear(): bias size does not match weight size: got {list(bias.shape)} but expected "
                           f"{outputs}")
    # y[..., o] = sum_ij x1[..., i] W[o, i, j] x2[..., j]: contract i by a matrix product, then j.
    mixed = input1.matmul(weight.permute(1, 0, 2).reshape(left, outputs * right))
    out = (mixed.reshape(list(input1.shape[:-1]) + [outputs, right]) * input2.unsqueeze(-2)).sum(-1)
    return out if bias is None else out + bias
