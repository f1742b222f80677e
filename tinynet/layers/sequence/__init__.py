"""Sequence layers: Embedding, positions, MultiHeadAttention and TransformerBlock."""
