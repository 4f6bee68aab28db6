"""The autodiff engine: Tensor and Variable, Function (one graph node), the backward walk, GradientTape, the step
tracer and gradient checks. It knows nothing of layers; ops are built on it."""
