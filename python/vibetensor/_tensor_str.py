"""Printing tensors the way torch prints them (`tensor([1., 2.])`, scientific notation,
summarization of large tensors, dtype and device suffixes). Written to match the output of
torch's formatter, with the same print options and defaults."""
import math
from dataclasses import dataclass
from typing import Optional


@dataclass
class _PrintOptions:
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: Optional[bool] = None


PRINT_OPTS = _PrintOptions()


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None, sci_mode=None):
    """Same arguments and profiles as torch.set_printoptions."""
    if profile == "default":
        PRINT_OPTS.__init__()
    elif profile == "short":
        PRINT_OPTS.precision, PRINT_OPTS.threshold, PRINT_OPTS.edgeitems, PRINT_OPTS.linewidth = 2, 1000, 2, 80
    elif profile == "full":
        PRINT_OPTS.precision, PRINT_OPTS.threshold, PRINT_OPTS.edgeitems, PRINT_OPTS.linewidth = 4, math.inf, 3, 80
    if precision is not None:
        PRINT_OPTS.precision = precision
    if threshold is not None:
        PRINT_OPTS.threshold = threshold
    if edgeitems is not None:
        PRINT_OPTS.edgeitems = edgeitems
    if linewidth is not None:
        PRINT_OPTS.linewidth = linewidth
    PRINT_OPTS.sci_mode = sci_mode


class _Formatter:
    """Chooses one width and notation for every element, from the values that will print."""

    def __init__(self, values, floating):
        self.floating = floating
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        precision = PRINT_OPTS.precision
        if not floating:
            for value in values:
                self.max_width = max(self.max_width, len(f"{value}"))
        else:
            finite = [v for v in values if math.isfinite(v) and v != 0]
            if finite:
                magnitudes = [abs(v) for v in finite]
                smallest, largest = min(magnitudes), max(magnitudes)
                self.int_mode = all(v == math.ceil(v) for v in finite)
                too_wide = largest / smallest > 1000.0 or largest > 1.0e8
                self.sci_mode = too_wide if self.int_mode else (too_wide or smallest < 1.0e-4)
                if PRINT_OPTS.sci_mode is not None:
                    self.sci_mode = PRINT_OPTS.sci_mode
                # Widths in the notation that will print.
                if self.sci_mode:
                    widths = [len(f"{v:.{precision}e}") for v in finite]
                elif self.int_mode:
                    widths = [len(f"{v:.0f}") + 1 for v in finite]
                else:
                    widths = [len(f"{v:.{precision}f}") for v in finite]
                self.max_width = max([self.max_width] + widths)
        if PRINT_OPTS.sci_mode is not None:
            self.sci_mode = PRINT_OPTS.sci_mode

    def width(self):
        return self.max_width

    def format(self, value):
        precision = PRINT_OPTS.precision
        if self.floating:
            if self.sci_mode:
                text = f"{value:{self.max_width}.{precision}e}"
            elif self.int_mode:
                text = f"{value:.0f}"
                if not (math.isinf(value) or math.isnan(value)):
                    text += "."
            else:
                text = f"{value:.{precision}f}"
        else:
            text = f"{value}"
        return (self.max_width - len(text)) * " " + text


def _summarized_values(nested, dim, summarize):
    """The flat list of the values that will print (edges only when summarizing)."""
    if dim == 0:
        return [nested]
    edge = PRINT_OPTS.edgeitems
    rows = nested
    if summarize and len(nested) > 2 * edge:
        rows = nested[:edge] + nested[-edge:]
    if dim == 1:
        return list(rows)
    out = []
    for row in rows:
        out.extend(_summarized_values(row, dim - 1, summarize))
    return out


def _vector_str(values, indent, summarize, formatter):
    element_length = formatter.width() + 2
    per_line = max(1, int(math.floor((PRINT_OPTS.linewidth - indent) / element_length)))
    edge = PRINT_OPTS.edgeitems
    if summarize and not edge:
        data = ["..."]
    elif summarize and len(values) > 2 * edge:
        data = [formatter.format(v) for v in values[:edge]] + [" ..."] + [formatter.format(v) for v in values[-edge:]]
    else:
        data = [formatter.format(v) for v in values]
    lines = [", ".join(data[i:i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + ("," + "\n" + " " * (indent + 1)).join(lines) + "]"


def _nested_str(values, dim, indent, summarize, formatter):
    if dim == 0:
        return formatter.format(values)
    if dim == 1:
        return _vector_str(values, indent, summarize, formatter)
    edge = PRINT_OPTS.edgeitems
    if summarize and len(values) > 2 * edge:
        slices = ([_nested_str(v, dim - 1, indent + 1, summarize, formatter) for v in values[:edge]] + ["..."]
                  + [_nested_str(v, dim - 1, indent + 1, summarize, formatter) for v in values[-edge:]])
    else:
        slices = [_nested_str(v, dim - 1, indent + 1, summarize, formatter) for v in values]
    return "[" + ("," + "\n" * (dim - 1) + " " * (indent + 1)).join(slices) + "]"


def _add_suffixes(text, suffixes, indent):
    parts = [text]
    last_line_len = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last_line_len + len(suffix) + 2 > PRINT_OPTS.linewidth:
            parts.append(",\n" + " " * indent + suffix)
            last_line_len = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            last_line_len += len(suffix) + 2
    parts.append(")")
    return "".join(parts)


def tensor_repr(tensor):
    import vibetensor as vt

    prefix = "tensor("
    indent = len(prefix)
    suffixes = []
    if tensor.device.type != "cpu":
        suffixes.append(f"device='{tensor.device}'")
    default_dtypes = (vt.get_default_dtype(), vt.int64, vt.bool)
    if tensor.numel() == 0:
        if tensor.dim() != 1:
            suffixes.append("size=" + str(tuple(tensor.shape)))
        if tensor.dtype != vt.get_default_dtype():
            suffixes.append(f"dtype={tensor.dtype!r}")
        body = "[]"
    else:
        if tensor.dtype not in default_dtypes:
            suffixes.append(f"dtype={tensor.dtype!r}")
        summarize = tensor.numel() > PRINT_OPTS.threshold
        values = tensor.detach().cpu().tolist()
        flat = _summarized_values(values, tensor.dim(), summarize)
        formatter = _Formatter(flat, tensor.dtype.is_floating_point)
        body = _nested_str(values, tensor.dim(), indent, summarize, formatter)
    if tensor.grad_fn is not None:
        suffixes.append(f"grad_fn=<{tensor.grad_fn.name()}>")
    elif tensor.requires_grad:
        suffixes.append("requires_grad=True")
    return _add_suffixes(prefix + body, suffixes, indent)
