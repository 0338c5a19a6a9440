"""One poll cycle's view of a cluster: the collector, its model, and the sources it reads."""
