"""Figures derived from snapshots, pure functions only: lag, time lag, rates, trends and the lag status."""
