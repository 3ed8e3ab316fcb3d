"""A learner's documents: upload checks, the read in a limited child process, processing."""
