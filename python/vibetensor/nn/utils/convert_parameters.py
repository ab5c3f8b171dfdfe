"""parameters_to_vector and vector_to_parameters (torch.nn.utils.convert_parameters)."""
from vibetensor import _C
from vibetensor._C import Tensor

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def _check_same_device(params):
    devices = {str(p.device) for p in params}
    if len(devices) > 1:
        raise TypeError("Found two parameters on different devices, this is currently not supported.")


def parameters_to_vector(parameters):
    """All parameters flattened and concatenated into one 1-D tensor (a copy)."""
    parameters = list(parameters)
    _check_same_device(parameters)
    return _C.cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec, parameters):
    """Point each parameter's data at its slice of `vec` (a view: no copy), in order."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected vibetensor.Tensor, but got: {type(vec).__name__}")
    parameters = list(parameters)
    _check_same_device(parameters)
    pointer = 0
    for param in parameters:
        num_param = param.numel()
        param.data = vec[pointer:pointer + num_param].view_as(param).data
        pointer += num_param
