"""nasc: a compiler for neural-architecture-search spaces of recommender models."""

__version__ = "0.1.0"
