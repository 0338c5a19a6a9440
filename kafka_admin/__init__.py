"""All broker I/O for the dashboard: plain Python on confluent-kafka, no Django imports."""

import logging

# A library does not configure logging; the application (Django settings, CLI) decides.
logging.getLogger(__name__).addHandler(logging.NullHandler())
