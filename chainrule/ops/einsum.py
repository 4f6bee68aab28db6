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

import math
import string
from collections import Counter
from typing import Sequence

import numpy as np

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
        if any(type(a) is not np.ndarray for a in operands):
            return einsum_namespace(inputs, output, operands)
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
        xp = backend.array_namespace(arrays[k])
        if missing:  # summed out of y by operand k alone: d/dx_k of Σ over them is a broadcast of ones
            operands.append(xp.ones([sizes.get(c, 1) for c in missing], dtype=arrays[k].dtype))
            specs.append(missing)
        unique = "".join(dict.fromkeys(target))
        grad = Einsum.apply(*operands, inputs=tuple(specs), output=unique)
        if len(unique) < len(target):  # a repeated letter: put the gradient on the diagonal
            renamed, eyes, spare = [], [], iter(c for c in string.ascii_letters if c not in "".join(letters))
            for c in target:
                if c in renamed:
                    fresh = next(spare)
                    eyes.append((c + fresh, xp.eye(sizes.get(c, 1), dtype=arrays[k].dtype)))
                    c = fresh
                renamed.append(c)
            grad = Einsum.apply(grad, *[e for _, e in eyes], inputs=(unique,) + tuple(s for s, _ in eyes),
                                output="".join(renamed))
        shape = arrays[k].shape
        return grad if grad.shape == shape else SumTo.apply(grad, shape=shape)  # a size-1 axis broadcast in y


def einsum_namespace(inputs: Sequence[str], output: str, operands: Sequence):
    """``einsum`` of any backend's arrays with one letter per axis (as :func:`parse_subscripts` spells them), on the
    standard's functions (it has no einsum): each operand's repeated letters become its diagonal and its letters
    found nowhere else are summed, then the operands are multiplied two at a time as one batched ``matmul`` (shared
    letters still needed are the batch, the others contracted), and the result is put in the output's order, its
    size-1 axes broadcast as NumPy's einsum broadcasts them.

    >>> einsum_namespace(("ij", "jk"), "ik", [np.ones((2, 3)), np.ones((3, 4))]).tolist()[0]
    [3.0, 3.0, 3.0, 3.0]
    """
    xp = backend.array_namespace(*operands)
    sizes: dict[str, int] = {}
    for letters, a in zip(inputs, operands):
        for c, n in zip(letters, a.shape):
            sizes[c] = max(sizes.get(c, 1), n)
    terms = [_diagonal(a, letters, xp) for letters, a in zip(inputs, operands)]
    for i, (a, letters) in enumerate(terms):  # letters of one operand alone, not in the output: summed first
        elsewhere = set(output).union(*(t[1] for j, t in enumerate(terms) if j != i))
        alone = tuple(d for d, c in enumerate(letters) if c not in elsewhere)
        if alone:
            terms[i] = (xp.sum(a, axis=alone), "".join(c for c in letters if c in elsewhere))
    a, letters = terms[0]
    for i, (b, other) in enumerate(terms[1:], start=1):
        later = set(output).union(*(t[1] for t in terms[i + 1:]))
        a, letters = _contract(a, letters, b, other, later, sizes, xp)
    a = xp.permute_dims(a, tuple(letters.index(c) for c in output))
    shape = tuple(sizes[c] for c in output)
    return a if a.shape == shape else xp.broadcast_to(a, shape)


def _diagonal(a, letters: str, xp):
    """(``a`` with each repeated letter's axes replaced by their diagonal, its letters)."""
    while len(set(letters)) < len(letters):
        c = next(c for c in letters if letters.count(c) > 1)
        first, second = letters.index(c), letters.index(c, letters.index(c) + 1)
        rest = [d for d in range(len(letters)) if d not in (first, second)]
        n = a.shape[first]
        a = xp.reshape(xp.permute_dims(a, tuple(rest) + (first, second)), tuple(a.shape[d] for d in rest) + (n * n,))
        a = xp.take(a, xp.arange(0, n * n, n + 1), axis=len(rest))
        letters = "".join(letters[d] for d in rest) + c
    return a, letters


def _contract(a, a_letters: str, b, b_letters: str, later: set, sizes: dict, xp):
    """(the product of two operands summed over their shared letters not in ``later``, its letters): one batched
    matmul of (batch, a's own, contracted) by (batch, contracted, b's own)."""
    batch = [c for c in a_letters if c in b_letters and c in later]
    summed = [c for c in a_letters if c in b_letters and c not in later]
    own_a = [c for c in a_letters if c not in b_letters]
    own_b = [c for c in b_letters if c not in a_letters]

    def arranged(x, letters, order):  # permuted to ``order``, shared letters broadcast to their full size
        x = xp.permute_dims(x, tuple(letters.index(c) for c in order))
        shape = tuple(sizes[c] if c in batch or c in summed else n for c, n in zip(order, x.shape))
        return x if x.shape == shape else xp.broadcast_to(x, shape)

    a = arranged(a, a_letters, batch + own_a + summed)
    b = arranged(b, b_letters, batch + summed + own_b)
    lead = a.shape[:len(batch)]
    m, k, n = math.prod(a.shape[len(batch):len(batch) + len(own_a)]), math.prod(sizes[c] for c in summed), \
        math.prod(b.shape[len(batch) + len(summed):])
    product = xp.matmul(xp.reshape(a, lead + (m, k)), xp.reshape(b, lead + (k, n)))
    shape = lead + a.shape[len(batch):len(batch) + len(own_a)] + b.shape[len(batch) + len(summed):]
    return xp.reshape(product, shape), "".join(batch + own_a + own_b)


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
    dtype = np.result_type(*[t.dtype for t in tensors]) if tensors else None  # (a Tensor's dtype is NumPy's)
    tensors = [t if t.dtype == dtype else cast(t, dtype) for t in tensors]
    inputs, output = parse_subscripts(subscripts, [t.shape for t in tensors])
    return Einsum.apply(*tensors, inputs=inputs, output=output)
