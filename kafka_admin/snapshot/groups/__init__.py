"""Group types as plug-ins: what each type declares (base), one module per type, the registry."""
