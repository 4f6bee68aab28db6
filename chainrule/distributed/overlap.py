"""The gradient exchange overlapped with backward (PyTorch DDP's buckets, Horovod's background allreduce).

After a :class:`~chainrule.distributed.fusion.GradientReducer` has combined one step's gradients, it is *armed* with
that step's layout: the next backward walk that computes the gradients of all of its variables packs each gradient
into its bucket as soon as the walk has finished it (:func:`chainrule.engine.autograd.set_final_gradient_hook`), and
starts each bucket's allreduce, nonblocking, as soon as the bucket and those before it are full; every later
completion polls MPI so that the sums move along. The optimizer's ``apply`` then only packs what is left, starts the
last buckets and waits. The buckets are the same as without overlap, summed in the same order, so the results are
the same bit for bit.

An ``apply`` that gets other arrays than the walk finished (a loop that clips or edits its gradients between the
tape and the optimizer), another layout or another weight, waits for the sums already started and sends its own
gradients again (after two steps with other arrays, the reducer stops starting sums during backward); an exchange
that no ``apply`` took (a step skipped for a non-finite loss) is waited for when the next walk begins. Every rank walks the same graph, so every rank starts, drops and repeats the same collectives in the same
order.

>>> import numpy as np
>>> from chainrule.distributed.fusion import GradientReducer
>>> reducer = GradientReducer()
>>> arm(reducer, reducer.plan([np.ones(2, np.float32)]), [object()], [np.ones(2, np.float32)])
>>> reducer.armed[1] and reducer in armed_reducers()
True
"""
from __future__ import annotations

import weakref
from typing import Callable

from chainrule.distributed.replica import current_weight, weights_uniform
from chainrule.engine import autograd

_reducers: dict[int, weakref.ref] = {}  # id -> the armed reducers, in the order they were first armed


def armed_reducers() -> list:
    """The reducers whose exchange the next backward walks may start (the living ones, in order)."""
    alive = []
    for key, ref in list(_reducers.items()):
        reducer = ref()
        if reducer is None:
            del _reducers[key]
        else:
            alive.append(reducer)
    return alive


def arm(reducer, plan, variables: list, grads: list) -> None:
    """Let the next backward walk that computes the gradients of all of ``variables`` (those of ``grads`` that were
    not None) start ``reducer``'s exchange with ``plan``'s buckets."""
    armed = reducer.armed
    if armed is not None and armed[0] is plan and armed[3] == [id(v) for v in variables]:
        return
    slots = {id(v): k for k, (v, g) in enumerate(zip(variables, grads)) if g is not None}
    reducer.armed = (plan, slots, frozenset(slots), [id(v) for v in variables])
    if id(reducer) not in _reducers:
        _reducers[id(reducer)] = weakref.ref(reducer)
    if autograd._final_gradient_hook is not _on_walk:
        autograd.set_final_gradient_hook(_on_walk)


def _on_walk(graph, keep: set) -> Callable | None:
    """The engine's hook: the function to call as leaves' gradients complete, or None when no armed reducer wants
    this walk's gradients."""
    reducers = armed_reducers()
    if not reducers:  # (their optimizers are gone: the walks go back to running without a hook)
        autograd.set_final_gradient_hook(None)
        return None
    handlers = [h for h in (_begin(r, keep) for r in reducers) if h is not None]
    if not handlers:
        return None
    if len(handlers) == 1:
        return handlers[0]

    def on_final(leaves, results) -> None:
        for handler in handlers:
            handler(leaves, results)
    return on_final


def _begin(reducer, keep: set) -> Callable | None:
    armed = reducer.armed
    if armed is None or not reducer.overlap or not keep.issuperset(armed[2]):
        return None
    plan, slots = armed[0], armed[1]
    if reducer.pending is not None:  # an exchange no apply took: it must still end, on every rank alike
        reducer.pending.complete()
    weight = current_weight()
    weight = reducer.packing_weight(reducer.last_weight if weight is None else weight, weights_uniform())
    exchange = reducer.pending = plan.exchange(weight)
    into = plan.into

    def on_final(leaves, results) -> None:
        for leaf in leaves:
            k = slots.get(id(leaf))
            if k is not None:
                entry = results.get(id(leaf))
                # (a gradient of another shape: another layout, which the apply will find and send again)
                if entry is not None and getattr(entry[1], "shape", None) == into[k].shape:
                    exchange.pack(k, entry[1])
        exchange.progress()
    return on_final
