"""Dead-letter header conventions as plug-ins: one module per writer, the registry in registry.py."""
