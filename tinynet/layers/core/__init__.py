"""Layers that compute: Dense, Einsum, activations, Dropout, Flatten and Reshape."""
