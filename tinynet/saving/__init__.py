"""Level 5, saving: one ``.npz`` file per model, a JSON header, no pickle."""

from tinynet.saving.files import load, load_with_metadata, save

__all__ = ["load", "load_with_metadata", "save"]
