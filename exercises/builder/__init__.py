"""The specs of the four instructor notebooks (see cells.py for how a spec becomes a notebook)."""
from builder import conv_vae, interpolation, new_dataset, theory

SPECS = (theory, conv_vae, interpolation, new_dataset)
