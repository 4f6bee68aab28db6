"""Einstein summation, ``numpy.einsum``'s notation (``'...'``, implicit outputs, repeated letters for diagonals and
traces). The subscripts are first spelled out with one letter per axis; each operand's gradient is then one more
einsum, of the output gradient with the other operands.

>>> import chainrule as cr
>>> a, b = cr.constant([[1.0, 2.0]]), cr.constant([[3.0], [4.0]])
>>> cr.ops.einsum("ij,jk->ik", a, b).numpy()
array([[11.]], dtype=float32)
>>> cr.ops.einsum("ii", cr.constant([[1.0, 2.0], [3.0, 4.0]])).numpy()  # the trace
np.float32(5.0)
"""
from __future__ import annotations

import string
from collections import Counter
from typing import Sequence

from chainrule import backend
from chainrule.engine.function import Function, op
from chainrule.engine.tensor import Tensor, TensorLike, as_tensor
from chainrule.ops.math import cast
from chainrule.ops.reduce import SumTo


class Einsum(Function):
    # y = einsum(s_1, ..., s_n -> o)   ->   dx_k = einsum(o, s_j for j ≠ k -> s_k) of g and the other operands
    # (letters of s_k found nowhere else are summed over in y, so they come back as a broadcast of ones; a letter
    # repeated in s_k is a diagonal, so its gradient lands on the diagonal through an identity matrix)
    def forward(self, *operands, inputs, output):
        self.inputs_letters, self.output_letters = inputs, output
        return backend.xp.asarray(backend.xp.einsum(f"{','.join(inputs)}->{output}", *operands, optimize=True))

    def backward(self, g):
        return tuple(self._operand_grad(g, k) if needed else None for k, needed in enumerate(self.needs_input_grad))

    def _operand_grad(self, g, k: int):
        arrays, letters = self.arrays, self.inputs_letters
        sizes = {c: n for spec, a in zip(letters, arrays) for c, n in zip(spec, a.shape) if n != 1}
        target = letters[k]
        operands = [g] + [x for j, x in enumerate(self.args) if j != k]
        specs = [self.output_letters] + [s for j, s in enumerate(letters) if j != k]
        seen = set("".join(specs))
        missing = "".join(dict.fromkeys(c for c in target if c not in seen))
        if missing:  # summed out of y by operand k alone: d/dx_k of Σ over them is a broadcast of ones
            operands.append(backend.xp.ones([sizes.get(c, 1) for c in missing], dtype=arrays[k].dtype))
            specs.append(missing)
        unique = "".join(dict.fromkeys(target))
        grad = Einsum.apply(*operands, inputs=tuple(specs), output=unique)
        if len(unique) < len(target):  # a repeated letter: put the gradient on the diagonal
            renamed, eyes, spare = [], [], iter(c for c in string.ascii_letters if c not in "".join(letters))
            for c in target:
                if c in renamed:
                    fresh = next(spare)
                    eyes.append((c + fresh, backend.xp.eye(sizes.get(c, 1), dtype=arrays[k].dtype)))
                    c = fresh
                renamed.append(c)
            grad = Einsum.apply(grad, *[e for _, e in eyes], inputs=(unique,) + tuple(s for s, _ in eyes),
                                output="".join(renamed))
        shape = arrays[k].shape
        return grad if grad.shape == shape else SumTo.apply(grad, shape=shape)  # a size-1 axis broadcast in y


def parse_subscripts(subscripts: str, shapes: Sequence[tuple[int, ...]]) -> tuple[tuple[str, ...], str]:
    """Each operand's letters and the output's, one letter per axis: '...' spelled out with fresh letters
    (right-aligned, broadcasting as NumPy), and the implicit output (no '->') made as NumPy makes it: the '...'
    axes, then the letters used once, in alphabetical order.

    >>> parse_subscripts("...ij,jk", [(5, 2, 3), (3, 4)])
    (('Aij', 'jk'), 'Aik')
    """
    spec = subscripts.replace(" ", "")
    if spec.count("->") > 1:
        raise ValueError(f"At most one '->' is supported in `einsum` subscripts, but received {subscripts}.")
    given, output = spec.split("->") if "->" in spec else (spec, None)
    inputs = given.split(",")
    if len(inputs) != len(shapes):
        raise ValueError(f"Number of operands ({len(shapes)}) does not match the number of input specs "
                         f"({len(inputs)}) in `einsum`, received subscripts={subscripts}.")
    for part in inputs + ([output] if output is not None else []):
        bad = set(part.replace("...", "")) - set(string.ascii_letters)
        if bad or part.count("...") > 1:
            raise ValueError(f"einsum: invalid subscripts {subscripts!r}: use letters, at most one '...' per operand")
    fresh = [c for c in string.ascii_uppercase + string.ascii_lowercase if c not in spec]
    covered = []  # how many axes each operand's '...' covers
    for part, shape in zip(inputs, shapes):
        named = len(part.replace("...", ""))
        if ("..." in part and named > len(shape)) or ("..." not in part and named != len(shape)):
            raise ValueError(f"Number of dimensions in the subscript does not match the number of dimensions in the "
                             f"operand, received subscript `{part}` and operand of shape {tuple(shape)}.")
        covered.append(len(shape) - named if "..." in part else 0)
    ellipsis = "".join(fresh[:max(covered, default=0)])
    inputs = tuple(part.replace("...", ellipsis[len(ellipsis) - n:]) for part, n in zip(inputs, covered))
    if output is None:
        counts = Counter(given.replace("...", "").replace(",", ""))
        output = ellipsis + "".join(sorted(c for c, n in counts.items() if n == 1))
    else:
        output = output.replace("...", ellipsis)
        unknown = set(output) - set("".join(inputs))
        if unknown or len(set(output)) != len(output):
            raise ValueError(f"einsum: output subscripts of {subscripts!r} must be distinct letters that appear in "
                             f"the inputs")
    return inputs, output


@op
def einsum(subscripts: str, *operands: TensorLike) -> Tensor:
    """Einstein summation as ``numpy.einsum`` (and ``keras.ops.einsum``): ``einsum('bij,bjk->bik', a, b)`` is a
    batched matmul. Operands of different float dtypes are promoted to the widest."""
    if not isinstance(subscripts, str):
        raise TypeError(f"einsum: `subscripts` must be a string such as 'ij,jk->ik', got {subscripts!r}")
    tensors = [as_tensor(x) for x in operands]
    dtype = backend.xp.result_type(*[t.dtype for t in tensors]) if tensors else None
    tensors = [t if t.dtype == dtype else cast(t, dtype) for t in tensors]
    inputs, output = parse_subscripts(subscripts, [t.shape for t in tensors])
    return Einsum.apply(*tensors, inputs=inputs, output=output)
