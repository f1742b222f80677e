"""Layers that compute: Dense, Einsum, activations, Dropout."""
