"""Level 1, the engine: einsum planning onto BLAS, the optional one-pass BLAS update,
numerically stable functions, argument checks and type aliases. Imports numpy only."""
