"""Other frameworks' names over chainrule's engine: ``compat.tf`` is the TensorFlow namespace."""
