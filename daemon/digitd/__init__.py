"""digitd: read handwritten digits from scanned cheques and forms."""

__version__ = "0.1.0"
