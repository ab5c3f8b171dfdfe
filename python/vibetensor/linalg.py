"""vibetensor.linalg: norms (the vector norm is one C++ op with its own derivative; the matrix
norms that need no decomposition are sums and maxima over it)."""
import math

from vibetensor import _C

vector_norm = _C.linalg_vector_norm


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    if A.dim() < 2:
        raise RuntimeError(f"linalg.matrix_norm: The input tensor A must have at least 2 dimensions.")
    rows, cols = (d % A.dim() for d in dim)
    if ord == "fro":
        return vector_norm(A, 2, dim=(rows, cols), keepdim=keepdim, dtype=dtype)
    if ord in (1, -1, math.inf, -math.inf):
        # 1: the largest column sum of |A|; inf: the largest row sum (-1, -inf: the smallest).
        summed, reduced = (rows, cols) if ord in (1, -1) else (cols, rows)
        sums = vector_norm(A, 1, dim=summed, keepdim=True, dtype=dtype)
        out = sums.amax(dim=reduced, keepdim=True) if ord > 0 else sums.amin(dim=reduced, keepdim=True)
        return out if keepdim else out.squeeze((rows, cols))
    if ord in ("nuc", 2, -2):
        raise NotImplementedError(f"linalg.matrix_norm: ord={ord!r} needs a singular value decomposition, which "
                                  "vibetensor does not have yet")
    raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    if isinstance(dim, int):
        dim = (dim,)
    if ord is None:
        return vector_norm(A, 2, dim=dim, keepdim=keepdim, dtype=dtype)
    if isinstance(ord, str) or (dim is not None and len(dim) == 2) or (dim is None and A.dim() == 2):
        return matrix_norm(A, ord, dim=dim if dim is not None else (-2, -1), keepdim=keepdim, dtype=dtype)
    if dim is None and A.dim() != 1:
        raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got {A.dim()}D.")
    return vector_norm(A, ord, dim=dim, keepdim=keepdim, dtype=dtype)


def _tensor_norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """torch.norm / Tensor.norm: 'fro' is the 2-norm over `dim` (all dims by default)."""
    if isinstance(dim, int):
        dim = (dim,)
    if p == "fro":
        return vector_norm(input, 2, dim=dim, keepdim=keepdim, dtype=dtype)
    if p == "nuc":
        return matrix_norm(input, "nuc", dim=dim if dim is not None else (-2, -1), keepdim=keepdim, dtype=dtype)
    return vector_norm(input, 2 if p is None else p, dim=dim, keepdim=keepdim, dtype=dtype)
