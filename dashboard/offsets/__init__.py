"""The offset reset feature: its form, preview and apply, all audited."""
